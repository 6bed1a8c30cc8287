// Before and after (templates/web/compare.html): the result laid exactly over the original,
// and a slider (a range input, so arrows and Home/End work) that moves the edge between
// them. A result of another shape than the original (cropped to the subject) cannot lie
// over it, so the two then show side by side.

export function wireCompare(root) {
  const slider = document.getElementById(root.id + "-split");
  const set = () => root.style.setProperty("--split", slider.value + "%");
  slider.addEventListener("input", set);
  set();
}

function loaded(img) {
  return img.complete && img.naturalWidth ? Promise.resolve() : new Promise((done) => {
    img.addEventListener("load", done, { once: true });
    img.addEventListener("error", done, { once: true });
  });
}

// before, after: image URLs; backdrop: null for the checkerboard (transparency shows), or
// the colour the result sits on.
export async function showCompare(root, { before, after, backdrop = null }) {
  const beforeImg = root.querySelector(".before");
  const afterImg = root.querySelector(".after img");
  const afterBox = root.querySelector(".after");
  afterBox.classList.toggle("checkerboard", !backdrop);
  afterBox.style.backgroundColor = backdrop || "";
  beforeImg.src = before;
  afterImg.src = after;
  await Promise.all([loaded(beforeImg), loaded(afterImg)]);
  const ratio = (img) => img.naturalWidth / Math.max(1, img.naturalHeight);
  const sameShape = Math.abs(ratio(beforeImg) - ratio(afterImg)) < 0.01 * ratio(beforeImg);
  root.classList.toggle("apart", !sameShape);
  const control = document.getElementById(root.id + "-control");
  if (control) control.hidden = !sameShape;
}
