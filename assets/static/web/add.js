// Adding images as they are (templates/web/asset_add.html): files dropped, pasted or picked
// are listed with their size and a preview; "Add the images" sends each, one after the
// other, to POST /api/v1/assets with the data of the chosen schema's form, showing each
// file's upload progress and then its outcome: a link to the new asset, or the API's
// refusal in words. A file the API would refuse for its size is flagged before it is sent.
import { uploadWithProgress } from "./api.js";
import { DataForm } from "./dataform.js";
import { takeFiles } from "./ui.js";
import { fileProblem, humanSize, setFieldError, showApiError } from "./words.js";

const $ = (id) => document.getElementById(id);
const form = $("add-form");
const list = $("file-list");
const input = $("add-files");
const dropzone = $("add-dropzone");
const schemas = JSON.parse($("add-schemas").textContent);
const schemaSelect = $("add-schema");
const pending = []; // {file, item, state}
let dataForm = null;

function buildData() {
  const schema = (schemas.find((s) => String(s.id) === schemaSelect.value) || {}).schema || {};
  const data = dataForm ? dataForm.collect().data : {};
  dataForm = new DataForm($("add-fields"), schema, data);
  $("add-no-fields").hidden = dataForm.usable;
  $("add-required-hint").hidden = !dataForm.usable || !(schema.required || []).length;
}

schemaSelect.addEventListener("change", buildData);
buildData();

function setState(entry, state, text, link) {
  entry.state = state;
  entry.item.dataset.state = state;
  const slot = entry.item.querySelector(".state-text");
  slot.replaceChildren(text);
  if (link) {
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = link.text;
    slot.append(" ", anchor);
  }
}

function add(files) {
  setFieldError(input, []);
  for (const file of files) {
    const item = document.createElement("li");
    const tile = document.createElement("span");
    tile.className = "thumb";
    const img = document.createElement("img");
    img.alt = "";
    img.src = URL.createObjectURL(file);
    img.addEventListener("error", () => { img.hidden = true; }); // HEIC, TIFF: no preview here
    tile.append(img);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    const state = document.createElement("span");
    state.className = "state";
    const size = document.createElement("span");
    size.textContent = humanSize(file.size);
    const meter = document.createElement("progress");
    meter.max = 1;
    meter.value = 0;
    meter.hidden = true;
    meter.setAttribute("aria-label", "Upload of " + file.name);
    const text = document.createElement("span");
    text.className = "state-text";
    state.append(size, meter, text);
    item.append(tile, name, state);
    list.append(item);
    const entry = { file, item, meter, state: "waiting" };
    const problem = fileProblem(file);
    if (problem) setState(entry, "failed", problem);
    else { setState(entry, "waiting", "Ready to add."); pending.push(entry); }
  }
  $("add-submit").disabled = !pending.some((entry) => entry.state === "waiting");
}

input.addEventListener("change", () => { add([...input.files]); input.value = ""; });
takeFiles(dropzone, add);

async function send(entry, data) {
  const body = new FormData();
  body.append("file", entry.file, entry.file.name);
  body.append("data", JSON.stringify(data));
  body.append("data_schema_id", schemaSelect.value);
  entry.meter.hidden = false;
  setState(entry, "sending", "Sending…");
  const answer = await uploadWithProgress(form.dataset.endpoint, body, (sent, total) => {
    entry.meter.max = total;
    entry.meter.value = sent;
    setState(entry, "sending", sent < total ? Math.round((100 * sent) / total) + " % sent" : "Checking the image…");
  });
  entry.meter.hidden = true;
  if (answer.ok) {
    setState(entry, "saved", "Added.", { href: form.dataset.assetPage + answer.body.id + "/", text: "Open it" });
    return true;
  }
  const errors = (answer.body && answer.body.errors) || {};
  if (errors.data || Object.keys(errors).some((key) => key.startsWith("data."))) {
    // The schema's violations belong to the data form, not to one file.
    $("add-error").textContent = dataForm.showErrors(errors).join(" ");
    dataForm.focusFirstError();
    setState(entry, "waiting", "Not added: fix the data above, then add again.");
    return false;
  }
  const words = showApiError(answer, { controls: { file: null, data_schema_id: schemaSelect }, values: { file: entry.file.size } });
  setState(entry, "failed", "Not added: " + (words.join(" ") || "see the data schema above."));
  return true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("add-error").textContent = "";
  $("add-status").hidden = true;
  setFieldError(schemaSelect, []);
  dataForm.clearErrors();
  const collected = dataForm.collect();
  if (Object.keys(collected.problems).length) {
    for (const [key, problem] of Object.entries(collected.problems)) {
      const field = dataForm.fields.get(key);
      if (field) dataForm.mark(field, [problem]); else $("add-error").textContent = problem;
    }
    dataForm.focusFirstError();
    return;
  }
  const waiting = pending.filter((entry) => entry.state === "waiting");
  if (!waiting.length) { setFieldError(input, ["Add an image first."]); return; }
  $("add-submit").disabled = true;
  for (const entry of waiting) {
    if (!(await send(entry, collected.data))) break; // the data is wrong for every file alike
  }
  const added = pending.filter((entry) => entry.state === "saved").length;
  const status = $("add-status");
  status.hidden = false;
  status.dataset.state = added ? "done" : "failed";
  status.textContent = added + " of " + list.children.length + " image" + (list.children.length === 1 ? "" : "s") + " added.";
  $("add-submit").disabled = !pending.some((entry) => entry.state === "waiting");
});
