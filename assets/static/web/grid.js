// The grid's selection and bulk actions (templates/web/asset_list.html), for the roles that
// may write. "Delete…" (MANAGER and above) deletes each selected asset with DELETE
// /api/v1/assets/<id> after a confirmation that says what goes; "Remove background…" asks
// Image Graphics for all of them in one request, one job, whose progress shows until it
// ends. The grid then shows itself again.
import { api, followJob, jobStateWords } from "./api.js";
import { flash } from "./notice.js";
import { ask } from "./ui.js";
import { conversionNameProblem, setFieldError, showApiError } from "./words.js";

const $ = (id) => document.getElementById(id);
const bar = $("bulk-bar");
const boxes = [...document.querySelectorAll(".select-asset")];
const selectAll = $("select-all");
const progressBox = $("bulk-progress");

function selected() {
  return boxes.filter((box) => box.checked).map((box) => box.closest("li"));
}

function plural(count, noun) {
  return count + " " + noun + (count === 1 ? "" : "s");
}

function refresh() {
  const tiles = selected();
  boxes.forEach((box) => box.closest("li").classList.toggle("selected", box.checked));
  $("selection-count").textContent = tiles.length ? plural(tiles.length, "asset") + " selected" : "None selected";
  selectAll.checked = tiles.length === boxes.length && boxes.length > 0;
  selectAll.indeterminate = tiles.length > 0 && tiles.length < boxes.length;
  for (const button of [$("bulk-bg-remove"), $("bulk-delete")]) if (button) button.disabled = !tiles.length;
}

function progress(done, total, text) {
  progressBox.hidden = false;
  const meter = $("bulk-progress-bar");
  meter.max = Math.max(1, total);
  if (done === null) meter.removeAttribute("value"); else meter.value = done;
  $("bulk-progress-text").textContent = text;
}

function busy(on) {
  for (const control of [selectAll, ...boxes, $("bulk-bg-remove"), $("bulk-delete")]) if (control) control.disabled = on;
  if (!on) refresh();
}

if (bar) {
  boxes.forEach((box) => box.addEventListener("change", refresh));
  selectAll.addEventListener("change", () => { boxes.forEach((box) => { box.checked = selectAll.checked; }); refresh(); });
  refresh();
}

// --- delete ------------------------------------------------------------------------------------

async function bulkDelete() {
  const tiles = selected();
  const conversions = tiles.reduce((sum, tile) => sum + Number(tile.dataset.conversions), 0);
  const renditions = tiles.reduce((sum, tile) => sum + Number(tile.dataset.renditions), 0);
  $("bulk-delete-count").textContent = plural(tiles.length, "asset");
  $("bulk-delete-what").textContent = "This deletes their originals, " + plural(conversions, "conversion")
    + " and " + plural(renditions, "rendition") + " (the resized copies the pages show), for good:";
  $("bulk-delete-names").replaceChildren(...tiles.map((tile) => {
    const item = document.createElement("li");
    item.textContent = tile.dataset.name;
    return item;
  }));
  if ((await ask($("bulk-delete-dialog"))) !== "delete") { $("bulk-delete").focus(); return; }
  busy(true);
  const failed = [];
  for (const [index, tile] of tiles.entries()) {
    progress(index, tiles.length, "Deleting " + (index + 1) + " of " + tiles.length + "…");
    const answer = await api("DELETE", bar.dataset.assetsEndpoint + "/" + tile.dataset.assetId);
    if (!answer.ok && answer.status !== 404) failed.push(tile.dataset.name + ": " + ((answer.body && answer.body.message) || answer.status));
  }
  progress(tiles.length, tiles.length, failed.length ? "Not deleted: " + failed.join("; ") : "Deleted.");
  busy(false);
  if (!failed.length) {
    flash("Deleted " + plural(tiles.length, "asset") + " with " + plural(conversions, "conversion") + ".");
    window.location.reload();
  }
}

// --- remove background, as one Image Graphics job ---------------------------------------------

function showBgTarget() {
  $("bulk-name-field").hidden = document.querySelector('input[name="bulk-target"]:checked').value !== "conversion";
}

function bulkBgRequest(tiles) {
  const conversion = document.querySelector('input[name="bulk-target"]:checked').value === "conversion";
  const name = $("bulk-conversion-name").value;
  const disposition = conversion ? { add_as_conversion: true, conversion_name: name } : { create_asset: true };
  return {
    assets: tiles.map((tile) => ({ [tile.dataset.assetId]: { options: { disposition } } })),
    operations: [{ bg_remove: { options: {} } }],
  };
}

function jobReport(job, tiles) {
  const names = Object.fromEntries(tiles.map((tile) => [tile.dataset.assetId, tile.dataset.name]));
  if (job.status === "QUEUED") return "Still working; the grid will show the results when the job ends.";
  const made = job.output.length;
  const errors = job.error.map((e) => (names[e.asset_id] || e.asset_id) + ": " + e.error);
  return "Done: " + plural(made, "result") + " saved." + (errors.length ? " Not done: " + errors.join("; ") : "");
}

async function bulkBgRemove() {
  const tiles = selected();
  $("bulk-bg-count").textContent = plural(tiles.length, "asset");
  $("bulk-bg-error").textContent = "";
  setFieldError($("bulk-conversion-name"), []);
  const dialog = $("bulk-bg-dialog");
  let answer;
  for (;;) {
    if ((await ask(dialog)) !== "run") { $("bulk-bg-remove").focus(); return; }
    const conversion = document.querySelector('input[name="bulk-target"]:checked').value === "conversion";
    const problem = conversion ? conversionNameProblem($("bulk-conversion-name").value) : null;
    if (problem) { setFieldError($("bulk-conversion-name"), [problem]); continue; }
    answer = await api("POST", bar.dataset.graphicsEndpoint, { json: bulkBgRequest(tiles) });
    if (answer.ok) break;
    const controls = Object.fromEntries(Object.keys((answer.body && answer.body.errors) || {})
      .map((path) => [path, /conversion_name/.test(path) ? $("bulk-conversion-name") : null]));
    showApiError(answer, { controls, general: $("bulk-bg-error"), values: { conversion_name: $("bulk-conversion-name").value } });
  }
  busy(true);
  progress(null, tiles.length, "Waiting for a worker…");
  const job = await followJob(bar.dataset.jobsEndpoint, answer.body.job_id, (doc) => {
    const done = doc.progress ? doc.progress.done : 0;
    progress(doc.started_at ? done : null, tiles.length, jobStateWords(doc, "images"));
  });
  const report = jobReport(job, tiles);
  progress(tiles.length, tiles.length, report);
  busy(false);
  if (job.status === "OK") {
    flash(report);
    window.location.reload();
  }
}

if (bar) {
  if ($("bulk-delete")) $("bulk-delete").addEventListener("click", bulkDelete);
  $("bulk-bg-remove").addEventListener("click", bulkBgRemove);
  document.querySelectorAll('input[name="bulk-target"]').forEach((radio) => radio.addEventListener("change", showBgTarget));
  showBgTarget();
}
