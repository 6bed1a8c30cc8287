// The asset page's own actions (templates/web/asset_detail.html), each an API call with
// the session: rename (PATCH assets/{id}), the data form (POST assets/{id}/data/update,
// REPLACE, with the chosen schema), delete the asset or one conversion (DELETE), each after
// a confirmation that says what goes. The page renders only the actions the role may take;
// the API refuses the others anyway.
import { api } from "./api.js";
import { DataForm } from "./dataform.js";
import { flash } from "./notice.js";
import { ask } from "./ui.js";
import { schemaWords, setFieldError, showApiError } from "./words.js";

const $ = (id) => document.getElementById(id);
const root = $("asset-page");
const asset = JSON.parse($("asset-data").textContent);
const schemas = JSON.parse($("asset-schemas").textContent);

// --- rename ----------------------------------------------------------------------------------

const renameForm = $("rename-form");
const renameOpen = $("rename-open");

function showRename(open) {
  renameForm.hidden = !open;
  renameOpen.setAttribute("aria-expanded", open ? "true" : "false");
  setFieldError($("rename-name"), []);
  if (open) { $("rename-name").value = asset.name; $("rename-name").select(); $("rename-name").focus(); }
  else renameOpen.focus();
}

renameOpen.addEventListener("click", () => showRename(renameForm.hidden));
$("rename-cancel").addEventListener("click", () => showRename(false));
renameForm.addEventListener("keydown", (event) => { if (event.key === "Escape") showRename(false); });
renameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("rename-name");
  if (!input.value.trim()) { setFieldError(input, ["Give the asset a name."]); input.focus(); return; }
  $("rename-save").disabled = true;
  const answer = await api("PATCH", root.dataset.endpoint, { json: { name: input.value } });
  $("rename-save").disabled = false;
  if (!answer.ok) {
    showApiError(answer, { controls: { name: input }, general: $("rename-name-error") });
    input.focus();
    return;
  }
  asset.name = answer.body.name;
  $("asset-name").textContent = asset.name;
  document.title = asset.name + " · Asset service";
  $("download-original").setAttribute("download", asset.name);
  document.querySelectorAll(".asset-name-text").forEach((el) => { el.textContent = asset.name; });
  showRename(false);
});

// --- data: a form from the schema, or JSON -----------------------------------------------------

const dataForm = $("data-form");
const schemaSelect = $("data-schema");
const jsonBox = $("data-json");
let form = null;

function schemaOf(id) {
  const found = schemas.find((schema) => String(schema.id) === String(id));
  return found ? found.schema : {};
}

function mode() {
  return dataForm.querySelector('input[name="data-mode"]:checked').value;
}

function currentData() {
  if (mode() === "json") {
    try { return JSON.parse(jsonBox.value || "{}"); } catch (error) { return null; }
  }
  return form && form.usable ? form.collect().data : asset.data;
}

function showMode(data) {
  const json = mode() === "json" || !form.usable;
  if (!form.usable) dataForm.querySelector('input[name="data-mode"][value="json"]').checked = true;
  dataForm.querySelector('input[name="data-mode"][value="form"]').disabled = !form.usable;
  $("data-fields").hidden = json;
  $("data-required-hint").hidden = json || !(schemaOf(schemaSelect.value).required || []).length;
  $("data-json-field").hidden = !json;
  if (json) jsonBox.value = JSON.stringify(data, null, 2);
}

function rebuild(data) {
  form = new DataForm($("data-fields"), schemaOf(schemaSelect.value), data);
  showMode(data);
}

schemaSelect.addEventListener("change", () => rebuild(currentData() || asset.data));
dataForm.querySelectorAll('input[name="data-mode"]').forEach((radio) => radio.addEventListener("change", () => {
  if (mode() === "form") {
    let data;
    try { data = JSON.parse(jsonBox.value || "{}"); } catch (error) {
      dataForm.querySelector('input[name="data-mode"][value="json"]').checked = true;
      setFieldError(jsonBox, ["Not valid JSON (" + error.message + "); fix it before going back to the form."]);
      return;
    }
    setFieldError(jsonBox, []);
    rebuild(data);
  } else {
    showMode(form.collect().data);
  }
}));

function dataStatus(text) {
  const status = $("data-status");
  status.textContent = text;
  status.dataset.state = "saved";
  status.hidden = !text;
}

dataForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  dataStatus("");
  $("data-error").textContent = "";
  setFieldError(jsonBox, []);
  setFieldError(schemaSelect, []);
  form.clearErrors();
  let data;
  if (mode() === "json") {
    try { data = JSON.parse(jsonBox.value || "{}"); } catch (error) {
      setFieldError(jsonBox, ["Not valid JSON: " + error.message + "."]); jsonBox.focus(); return;
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) { setFieldError(jsonBox, ["The data must be a JSON object: { … }."]); return; }
  } else {
    const collected = form.collect();
    const problems = Object.entries(collected.problems);
    if (problems.length) {
      for (const [key, problem] of problems) {
        const field = form.fields.get(key);
        if (field) form.mark(field, [problem]); else $("data-error").textContent = problem;
      }
      form.focusFirstError();
      return;
    }
    data = collected.data;
  }
  $("data-save").disabled = true;
  const answer = await api("POST", dataForm.dataset.updateEndpoint, { json: { data, mode: "REPLACE", data_schema_id: Number(schemaSelect.value) } });
  $("data-save").disabled = false;
  if (!answer.ok) {
    const { data_schema_id: schemaErrors, ...errors } = (answer.body && answer.body.errors) || {};
    setFieldError(schemaSelect, schemaErrors ? schemaErrors.map((m) => schemaWords(m)) : []);
    if (!schemaErrors && !Object.keys(errors).length) {
      showApiError(answer, { general: $("data-error") });
    } else if (mode() === "form") {
      $("data-error").textContent = form.showErrors(errors).join(" ");
      form.focusFirstError();
    } else {
      const words = Object.entries(errors).flatMap(([path, messages]) => messages.map((m) => (path === "data" ? "" : path.replace(/^data\./, "") + ": ") + schemaWords(m)));
      setFieldError(jsonBox, words);
    }
    return;
  }
  asset.data = answer.body.data;
  asset.data_schema_id = answer.body.data_schema_id;
  const chosen = schemas.find((schema) => schema.id === asset.data_schema_id);
  if (chosen) $("fact-schema").textContent = chosen.name;
  rebuild(asset.data);
  dataStatus("Saved.");
});

rebuild(asset.data);

// --- deletes, each after saying what goes ----------------------------------------------------

const deleteOpen = $("delete-open");
if (deleteOpen) {
  deleteOpen.addEventListener("click", async () => {
    if ((await ask($("delete-dialog"))) !== "delete") { deleteOpen.focus(); return; }
    const answer = await api("DELETE", root.dataset.endpoint);
    if (!answer.ok && answer.status !== 404) {
      showApiError(answer, { general: $("action-error") });
      return;
    }
    flash("Deleted “" + asset.name + "”, its conversions and renditions.");
    window.location.assign(root.dataset.assetListPage);
  });
}

document.querySelectorAll(".delete-conversion").forEach((button) => button.addEventListener("click", async () => {
  const name = button.dataset.name;
  const card = button.closest("li");
  $("conversion-delete-name").textContent = name;
  $("conversion-delete-size").textContent = card.dataset.size;
  if ((await ask($("conversion-dialog"))) !== "delete") { button.focus(); return; }
  const answer = await api("DELETE", root.dataset.endpoint + "/content/" + encodeURIComponent(name));
  if (!answer.ok) {
    showApiError(answer, { general: $("action-error") });
    return;
  }
  card.remove();
  const left = document.querySelectorAll("#conversions li").length;
  $("conversions").hidden = !left;
  $("no-conversions").hidden = Boolean(left);
  const notice = $("page-notice");
  notice.textContent = "Deleted the conversion “" + name + "”.";
  notice.hidden = false;
  $("asset-actions").querySelector("button, a").focus();
}));
