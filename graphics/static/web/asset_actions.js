// The asset page's graphics actions (templates/web/asset_cutout.html, asset_compose.html).
//
// Remove background: GET /api/v1/assets/<id>/addons/bg_remove?mode=get_image runs the model
// on the stored original (nothing is uploaded); the result stays in the page, before/after,
// and saving posts it to the assets API as a conversion of this asset or as a new asset
// whose source is this one, so the model does not run again.
//
// Compose: a small Image Graphics request for this asset (canvas, a colour or a background
// asset, position, border), queued as one job whose progress shows until it ends.
import { api, followJob, jobStateWords } from "./api.js";
import { showCompare, wireCompare } from "./compare.js";
import { flash } from "./notice.js";
import { AssetPicker } from "./picker.js";
import { stem } from "./ui.js";
import { conversionNameProblem, humanSize, setFieldError, showApiError } from "./words.js";

const $ = (id) => document.getElementById(id);
const root = $("asset-page");
const asset = JSON.parse($("asset-data").textContent);
const assetsEndpoint = root.dataset.assetsEndpoint;

function togglePanel(button, panel, others) {
  const open = panel.hidden;
  for (const [otherButton, otherPanel] of others) {
    otherPanel.hidden = true;
    otherButton.setAttribute("aria-expanded", "false");
  }
  panel.hidden = !open;
  button.setAttribute("aria-expanded", open ? "true" : "false");
  if (open) {
    panel.scrollIntoView({ block: "nearest" });
    panel.querySelector("select, input, button").focus();
  }
}

const panels = [[$("cutout-open"), $("cutout-panel")], [$("compose-open"), $("compose-panel")]];
for (const [button, panel] of panels) {
  button.addEventListener("click", () => togglePanel(button, panel, panels.filter(([b]) => b !== button)));
}

function target(name) {
  return document.querySelector(`input[name="${name}"]:checked`).value;
}

// --- remove background ------------------------------------------------------------------------

const cutoutPanel = $("cutout-panel");
const cutoutCompare = $("cutout-compare");
let cutout = null; // {blob, url}

wireCompare(cutoutCompare);

function showCutoutTarget() {
  const conversion = target("cutout-target") === "conversion";
  $("cutout-name-field").hidden = !conversion;
  $("cutout-copy-field").hidden = conversion;
}
document.querySelectorAll('input[name="cutout-target"]').forEach((radio) => radio.addEventListener("change", showCutoutTarget));
showCutoutTarget();
$("cutout-name").addEventListener("input", () => {
  const problem = conversionNameProblem($("cutout-name").value);
  setFieldError($("cutout-name"), problem ? [problem] : []);
});

$("cutout-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("cutout-error").textContent = "";
  $("cutout-progress").hidden = false;
  $("cutout-preview").disabled = true;
  const query = new URLSearchParams({
    mode: "get_image", bg_mode: $("cutout-bg_mode").value, strength: $("cutout-strength").value,
    remove_artifacts: $("cutout-remove_artifacts").checked ? "true" : "false",
  });
  const answer = await api("GET", cutoutPanel.dataset.endpoint + "?" + query, { accept: "image/*" });
  $("cutout-progress").hidden = true;
  $("cutout-preview").disabled = false;
  if (!answer.ok) {
    showApiError(answer, { controls: { bg_mode: $("cutout-bg_mode"), strength: $("cutout-strength") }, general: $("cutout-error") });
    return;
  }
  const blob = await answer.response.blob();
  if (cutout) URL.revokeObjectURL(cutout.url);
  cutout = { blob, url: URL.createObjectURL(blob) };
  // The original as the browser can show it (HEIC and TIFF too): a rendition of its size.
  const before = $("original").currentSrc.split("?")[0] + "?w=1024&h=1024";
  await showCompare(cutoutCompare, { before, after: cutout.url });
  $("cutout-facts").textContent = "PNG · " + answer.response.headers.get("X-Width") + " × " + answer.response.headers.get("X-Height") + " px · " + humanSize(blob.size) + " · not saved yet";
  $("cutout-status").hidden = true;
  $("cutout-result").hidden = false;
  $("cutout-result").scrollIntoView({ block: "nearest" });
});

$("cutout-save-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("cutout-save-error").textContent = "";
  const data = new FormData();
  let url = assetsEndpoint;
  const conversion = target("cutout-target") === "conversion";
  const name = $("cutout-name").value;
  if (conversion) {
    const problem = conversionNameProblem(name);
    if (problem) { setFieldError($("cutout-name"), [problem]); $("cutout-name").focus(); return; }
    url = root.dataset.endpoint + "/content/" + encodeURIComponent(name);
    data.append("file", cutout.blob, stem(asset.name) + "_" + name + ".png");
  } else {
    data.append("file", cutout.blob, stem(asset.name) + "_bg_removed.png");
    data.append("source_asset_id", asset.id);
    if ($("cutout-copy-data").checked) {
      data.append("data", JSON.stringify(asset.data));
      data.append("data_schema_id", String(asset.data_schema_id));
    }
  }
  $("cutout-save").disabled = true;
  const answer = await api("POST", url, { form: data });
  $("cutout-save").disabled = false;
  if (!answer.ok) {
    showApiError(answer, { controls: { name: $("cutout-name") }, general: $("cutout-save-error"), values: { name } });
    return;
  }
  if (conversion) {
    // The page lists conversions as the server renders them: show the new one there.
    flash("Saved the background removal as the conversion “" + name + "”.");
    window.location.reload();
    return;
  }
  const status = $("cutout-status");
  const link = document.createElement("a");
  link.href = root.dataset.assetPage + answer.body.id + "/";
  link.id = "cutout-new-asset";
  link.textContent = "Open “" + answer.body.name + "”";
  status.replaceChildren("Saved as a new asset. ", link);
  status.dataset.state = "saved";
  status.hidden = false;
});

// --- compose ----------------------------------------------------------------------------------

const composePanel = $("compose-panel");
const composeForm = $("compose-form");
const bgPicker = new AssetPicker($("compose-bg-picker"), { exclude: asset.id });
const borderPicker = new AssetPicker($("compose-border-picker"), { exclude: asset.id });
const NUMBER_FIELDS = ["compose-width", "compose-canvas-width", "compose-canvas-height", "compose-x", "compose-y"];

function showComposeFields() {
  $("compose-bg-asset").hidden = target("compose-background") !== "asset";
  $("compose-at").hidden = target("compose-position") !== "at";
  $("compose-name-field").hidden = target("compose-target") !== "conversion";
}
composeForm.querySelectorAll('input[type="radio"]').forEach((radio) => radio.addEventListener("change", showComposeFields));
showComposeFields();

// A whole number from a field; "" when empty; null (and the field marked) when not one.
function whole(id, { optional = false } = {}) {
  const raw = $(id).value.trim();
  if (raw === "" && optional) return "";
  if (!/^\d+$/.test(raw)) { setFieldError($(id), [raw === "" ? "Fill it in: a whole number of pixels." : "Must be a whole number of pixels, like 800."]); return null; }
  return Number(raw);
}

// The Image Graphics request the form describes, or null after marking what is wrong.
function composeRequest() {
  NUMBER_FIELDS.forEach((id) => setFieldError($(id), []));
  ["compose-name", "compose-bg-search", "compose-border-search"].forEach((id) => setFieldError($(id), []));
  $("compose-position-error").textContent = "";
  const width = whole("compose-width", { optional: true });
  const canvasWidth = whole("compose-canvas-width");
  const canvasHeight = whole("compose-canvas-height");
  const at = target("compose-position") === "at";
  const x = at ? whole("compose-x") : 0;
  const y = at ? whole("compose-y") : 0;
  if ([width, canvasWidth, canvasHeight, x, y].includes(null)) return null;
  const options = { canvas: { size: { width: canvasWidth, height: canvasHeight } } };
  if (width !== "") options.size = { width };
  if (at) options.position = { x, y };
  if (target("compose-target") === "conversion") {
    const problem = conversionNameProblem($("compose-name").value);
    if (problem) { setFieldError($("compose-name"), [problem]); return null; }
    options.disposition = { add_as_conversion: true, conversion_name: $("compose-name").value };
  } else {
    options.disposition = { create_asset: true };
  }
  const operations = [];
  if ($("compose-bg-remove").checked) operations.push({ bg_remove: { options: {} } });
  if (target("compose-background") === "asset") {
    if (!bgPicker.asset) { bgPicker.error(["Choose the background asset, or pick a colour."]); return null; }
    operations.push({ bg_add: { options: { image_id: bgPicker.asset.id, mode: $("compose-bg-mode").value } } });
  } else {
    operations.push({ bg_add: { options: { color: $("compose-color").value } } });
  }
  if (borderPicker.asset) operations.push({ border_add: { options: { image_id: borderPicker.asset.id } } });
  return { assets: [{ [asset.id]: { options } }], operations };
}

// The API names a field by its JSON path (assets[0].options.canvas.size.width): the control.
function composeControl(path) {
  const table = [
    [/options\.size/, "compose-width"], [/canvas\.size\.width|canvas\.size$/, "compose-canvas-width"],
    [/canvas\.size\.height/, "compose-canvas-height"], [/position\.x/, "compose-x"], [/position\.y/, "compose-y"],
    [/conversion_name/, "compose-name"], [/bg_add\.options\.image_id/, "compose-bg-search"],
    [/border_add\.options\.image_id/, "compose-border-search"],
  ];
  const found = table.find(([pattern]) => pattern.test(path));
  if (found) return $(found[1]);
  return /position/.test(path) ? { id: "compose-position", setAttribute() {} } : null;
}

function composeProgress(job) {
  const bar = $("compose-progress-bar");
  const progress = job.progress || { done: 0, total: 1 };
  bar.max = Math.max(1, progress.total);
  if (job.status === "QUEUED" && !job.started_at) bar.removeAttribute("value");
  else bar.value = progress.done;
  $("compose-status").dataset.state = job.status === "QUEUED" ? "working" : job.status === "OK" ? "done" : "failed";
  $("compose-status").textContent = jobStateWords(job, "images");
}

async function composeEnded(job) {
  $("compose-submit").disabled = false;
  if (job.status !== "OK") {
    $("compose-status").dataset.state = "failed";
    $("compose-status").textContent = job.status === "QUEUED"
      ? "Still working; the result will appear on this page when the job ends."
      : "Not made: " + job.error.map((e) => e.error).join(" ");
    return;
  }
  const made = job.output[0];
  if (made.name) {
    flash("Composed: saved as the conversion “" + made.name + "”.");
    window.location.reload();
    return;
  }
  const link = document.createElement("a");
  link.href = root.dataset.assetPage + made.asset_id + "/";
  link.id = "compose-new-asset";
  link.textContent = "Open the new asset";
  $("compose-status").replaceChildren("Done: saved as a new asset. ", link);
  const image = $("compose-result-image");
  image.src = assetsEndpoint + "/" + made.asset_id + "/content/original?w=512&h=512";
  $("compose-result").hidden = false;
}

composeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("compose-error").textContent = "";
  const request = composeRequest();
  if (!request) { composeForm.querySelector('[aria-invalid="true"]')?.focus(); return; }
  $("compose-submit").disabled = true;
  $("compose-result").hidden = true;
  const answer = await api("POST", composePanel.dataset.endpoint, { json: request });
  if (!answer.ok) {
    $("compose-submit").disabled = false;
    const errors = (answer.body && answer.body.errors) || {};
    const controls = Object.fromEntries(Object.keys(errors).map((path) => [path, composeControl(path)]));
    showApiError(answer, { controls, general: $("compose-error") });
    return;
  }
  $("compose-progress").hidden = false;
  composeProgress({ status: "QUEUED", progress: { done: 0, total: 1 } });
  composeEnded(await followJob(composePanel.dataset.jobsEndpoint, answer.body.job_id, composeProgress));
});
