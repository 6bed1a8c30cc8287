// Small pieces the pages share: a confirmation dialog, a file name's stem, and taking
// images that are dropped on a zone or pasted anywhere on the page.

// Open a <dialog> whose <form method="dialog"> buttons carry values; resolves with the
// value of the button that closed it ("" for Escape).
export function ask(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// "photo.final.jpg" -> "photo.final"; "" -> "image".
export function stem(filename) {
  const base = filename.replace(/^.*[\\/]/, "");
  const dot = base.lastIndexOf(".");
  return (dot > 0 ? base.slice(0, dot) : base) || "image";
}

// Call onFiles(files) with the files dropped on `zone`, and with the images pasted on the
// page (Ctrl+V of a screenshot or a copied picture). A pasted image has no name of its own
// ("image.png"): it is named pasted-1.png, pasted-2.png, ...
export function takeFiles(zone, onFiles) {
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("dragover");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragover")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const dropped = event.dataTransfer ? [...event.dataTransfer.files] : [];
    if (dropped.length) onFiles(dropped);
  });
  document.addEventListener("paste", (event) => {
    const files = [...((event.clipboardData && event.clipboardData.files) || [])].filter((file) => file.type.startsWith("image/"));
    if (!files.length) return;
    event.preventDefault();
    onFiles(files.map((file, index) => (file.name && file.name !== "image.png"
      ? file : new File([file], "pasted-" + (index + 1) + ".png", { type: file.type }))));
  });
}
