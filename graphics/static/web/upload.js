// The upload page (templates/web/upload.html). An image dropped, pasted or picked is sent at
// once to POST /api/v1/assets/file/addons/bg_remove (mode=get_image, with the options);
// the result stays in the page, shown before/after, and downloadable. Saving posts that
// result to the assets API (as a conversion of a chosen asset, or as a new asset that
// records its source), so the image is neither sent nor processed again. Every request
// carries the session and the CSRF token; errors are the API's, said in words next to the
// field they name.
import { api } from "./api.js";
import { showCompare, wireCompare } from "./compare.js";
import { AssetPicker } from "./picker.js";
import { stem, takeFiles } from "./ui.js";
import { conversionNameProblem, fileProblem, humanSize, setFieldError, showApiError } from "./words.js";

const form = document.getElementById("bg-form");
const $ = (id) => document.getElementById(id);
const fileInput = $("image");
const dropzone = $("dropzone");
const result = $("result");
const progress = $("progress");
const compare = $("result-compare");
const saveForm = $("save-form");
const FORMAT_NAMES = { png: "PNG", webp: "WebP", jpg: "JPEG" };
const OPTION_FIELDS = ["bg_mode", "strength", "remove_artifacts", "format", "size", "bg_color", "crop", "crop_margin"];

let file = null;          // the image being worked on
let originalUrl = null;   // its object URL (the "before")
let kept = null;          // the result: {blob, url, format, width, height}
let previewSeq = 0;       // a newer preview makes an older answer moot

wireCompare(compare);

// --- the image: dropped, pasted or picked, then described and sent at once ---------------

function describe() {
  $("file-name").textContent = file.name;
  $("file-size").textContent = humanSize(file.size) + " (" + file.size.toLocaleString("en") + " bytes)";
  const dims = $("file-dimensions");
  dims.textContent = "reading…";
  $("file-info").hidden = false;
  const probe = new Image();
  probe.onload = () => { dims.textContent = probe.naturalWidth + " × " + probe.naturalHeight + " px"; };
  probe.onerror = () => { dims.textContent = "unknown: the browser cannot show this file (the service also reads HEIC and TIFF)"; };
  probe.src = originalUrl;
}

function take(chosen) {
  setFieldError(fileInput, []);
  const problem = fileProblem(chosen);
  if (problem) {
    setFieldError(fileInput, [problem]);
    return;
  }
  file = chosen;
  if (originalUrl) URL.revokeObjectURL(originalUrl);
  originalUrl = URL.createObjectURL(file);
  describe();
  preview();
}

fileInput.addEventListener("change", () => { if (fileInput.files.length) take(fileInput.files[0]); });
takeFiles(dropzone, (files) => take(files[0]));

// --- output options (SPEC §10) -------------------------------------------------------------

const formatSelect = $("format");
const colourInput = $("bg_color");
const cropBox = $("crop");
const marginInput = $("crop_margin");

function background() {
  const checked = form.querySelector('input[name="background"]:checked');
  return checked && checked.value === "color" ? colourInput.value : null;
}

function showOutputFields() {
  const jpeg = formatSelect.value === "jpg";
  $("format-hint").hidden = !jpeg;
  $("background-none-label").textContent = jpeg ? "None (white)" : "Transparent";
  marginInput.disabled = !cropBox.checked;
  $("crop-margin-field").classList.toggle("disabled", !cropBox.checked);
}

colourInput.addEventListener("input", () => { form.querySelector('input[name="background"][value="color"]').checked = true; });
formatSelect.addEventListener("change", showOutputFields);
cropBox.addEventListener("change", showOutputFields);
showOutputFields();

// The request's query: mode=get_image and the options (defaults left out).
function query() {
  const params = new URLSearchParams({ mode: "get_image" });
  params.set("bg_mode", $("bg_mode").value);
  params.set("strength", $("strength").value);
  params.set("remove_artifacts", $("remove_artifacts").checked ? "true" : "false");
  if (formatSelect.value !== "png") params.set("format", formatSelect.value);
  if ($("size").value !== "full") params.set("size", $("size").value);
  if (background()) params.set("bg_color", background());
  if (cropBox.checked) {
    params.set("crop", "true");
    const margin = marginInput.value.trim();
    if (margin && margin !== "0") params.set("crop_margin", margin);
  }
  return params;
}

// --- the preview ---------------------------------------------------------------------------

function busy(on) {
  progress.hidden = !on;
  progress.setAttribute("aria-busy", on ? "true" : "false");
  form.setAttribute("aria-busy", on ? "true" : "false");
  $("submit").disabled = on;
}

function clearErrors() {
  for (const id of ["image", ...OPTION_FIELDS]) setFieldError($(id), []);
  $("general-error").textContent = "";
}

function revealResult() {
  // On a phone the result starts below the fold: bring it into view.
  const top = result.getBoundingClientRect().top;
  if (top > window.innerHeight * 0.6 || top < 0) result.scrollIntoView({ block: "start" });
}

async function preview() {
  if (!file) { setFieldError(fileInput, ["Choose an image first."]); return; }
  const seq = ++previewSeq;
  clearErrors();
  busy(true);
  const data = new FormData();
  data.append("image", file, file.name);
  const format = formatSelect.value;
  const colour = background();
  const answer = await api("POST", form.dataset.endpoint + "?" + query().toString(), { form: data, accept: "image/*" });
  if (seq !== previewSeq) return;
  const type = answer.response ? answer.response.headers.get("Content-Type") || "" : "";
  if (!answer.ok || !type.startsWith("image/")) {
    busy(false);
    const controls = Object.fromEntries(OPTION_FIELDS.map((id) => [id, $(id)]));
    showApiError(answer, { controls: { ...controls, image: fileInput, file: fileInput }, general: $("general-error"), values: { image: file.size } });
    return;
  }
  const blob = await answer.response.blob();
  if (kept) URL.revokeObjectURL(kept.url);
  const headers = answer.response.headers;
  kept = { blob, url: URL.createObjectURL(blob), format, width: headers.get("X-Width"), height: headers.get("X-Height"), source: file };
  await showCompare(compare, { before: originalUrl, after: kept.url, backdrop: format === "jpg" || colour ? colour || "#ffffff" : null });
  $("result-facts").textContent = "· " + FORMAT_NAMES[format] + (kept.width ? " · " + kept.width + " × " + kept.height + " px" : "") + " · " + humanSize(blob.size);
  const download = $("download");
  download.href = kept.url;
  download.download = stem(file.name) + "_bg_removed." + format;
  download.textContent = "Download " + FORMAT_NAMES[format];
  busy(false);
  result.hidden = false;
  if (saveForm) resetSaveStatus();
  revealResult();
}

form.addEventListener("submit", (event) => { event.preventDefault(); preview(); });

// --- saving the kept result (rendered only for roles that may save) ----------------------

const nameInput = $("conversion_name");
const picker = saveForm ? new AssetPicker($("asset-picker"), { onChange: () => setFieldError($("metadata"), []) }) : null;
const reserved = (form.dataset.reservedConversionNames || "").split(",").filter(Boolean);

function action() {
  return saveForm.querySelector('input[name="action"]:checked').value;
}

function showActionFields() {
  const conversion = action() === "add_conversion";
  $("asset-label").textContent = conversion ? "Asset that receives the conversion" : "Source asset (optional)";
  $("conversion-fields").hidden = !conversion;
  $("new-asset-fields").hidden = conversion;
  picker.error([]);
}

function checkName() {
  const problem = conversionNameProblem(nameInput.value, reserved);
  setFieldError(nameInput, problem ? [problem] : []);
  return !problem;
}

function resetSaveStatus() {
  const status = $("save-status");
  status.hidden = true;
  status.replaceChildren();
  $("save-error").textContent = "";
}

function saved(text, assetId) {
  const status = $("save-status");
  status.dataset.state = "saved";
  const link = document.createElement("a");
  link.id = "saved-link";
  link.href = form.dataset.assetPage + assetId + "/";
  link.textContent = "Open the saved asset";
  status.replaceChildren(text + " ", link);
  status.hidden = false;
}

// What to post: (url, form fields) for the chosen target, or null after showing why not.
async function saveRequest() {
  const asset = picker.asset;
  const ext = "." + kept.format;
  if (action() === "add_conversion") {
    if (!asset) { picker.error(["Choose the asset that receives the conversion."]); $("asset-search").focus(); return null; }
    if (!checkName()) { nameInput.focus(); return null; }
    const data = new FormData();
    data.append("file", kept.blob, stem(kept.source.name) + "_bg_removed" + ext);
    return { url: form.dataset.assetsEndpoint + "/" + asset.id + "/content/" + encodeURIComponent(nameInput.value), data, name: nameInput.value, target: asset };
  }
  const data = new FormData();
  data.append("file", kept.blob, stem(asset ? asset.name : kept.source.name) + "_bg_removed" + ext);
  if (asset) data.append("source_asset_id", asset.id);
  if ($("metadata").checked) {
    if (!asset) { setFieldError($("metadata"), ["Choose the asset whose metadata to copy, or untick this box."]); return null; }
    const fresh = await api("GET", form.dataset.assetsEndpoint + "/" + asset.id);
    if (!fresh.ok) { showApiError(fresh, { general: $("save-error") }); return null; }
    data.append("data", JSON.stringify(fresh.body.data));
    data.append("data_schema_id", String(fresh.body.data_schema_id));
  }
  return { url: form.dataset.assetsEndpoint, data, name: null, target: asset };
}

async function save(event) {
  event.preventDefault();
  resetSaveStatus();
  setFieldError($("metadata"), []);
  if (!kept) return;
  const request = await saveRequest();
  if (!request) return;
  $("save").disabled = true;
  const answer = await api("POST", request.url, { form: request.data });
  $("save").disabled = false;
  if (!answer.ok) {
    showApiError(answer, {
      controls: { name: nameInput, conversion_name: nameInput, source_asset_id: $("asset-search"), data: $("metadata"), data_schema_id: $("metadata"), file: $("metadata") },
      general: $("save-error"),
      values: { name: nameInput.value, conversion_name: nameInput.value, file: kept.blob.size },
    });
    return;
  }
  if (request.name) saved("Saved as conversion “" + request.name + "” of " + request.target.name + ".", request.target.id);
  else saved("Saved as the new asset “" + answer.body.name + "”.", answer.body.id);
}

if (saveForm) {
  saveForm.querySelectorAll('input[name="action"]').forEach((radio) => radio.addEventListener("change", showActionFields));
  nameInput.addEventListener("input", checkName);
  saveForm.addEventListener("submit", save);
  showActionFields();
  checkName();
}
