// A notice carried to the next page (after a delete, the page goes elsewhere and says what
// went): `flash(text)` before navigating; every page shows it once, in #page-notice.
const KEY = "asset-service-notice";

export function flash(text) {
  try { sessionStorage.setItem(KEY, text); } catch (error) { /* private mode: no notice */ }
}

function show() {
  let text = null;
  try { text = sessionStorage.getItem(KEY); sessionStorage.removeItem(KEY); } catch (error) { text = null; }
  const slot = document.getElementById("page-notice");
  if (text && slot) {
    slot.textContent = text;
    slot.hidden = false;
  }
}

show();
