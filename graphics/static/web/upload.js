// The upload page (templates/web/upload.html): read the picked image's facts in the browser,
// send it to POST /api/v1/assets/file/addons/bg_remove with the session and CSRF token,
// show the result, and follow the save job. Errors come from the API's one error shape
// and are shown next to the field they name, in the API's words.
(function () {
  "use strict";

  const form = document.getElementById("bg-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const fileInput = $("image");
  const dropzone = $("dropzone");
  const submit = $("submit");
  const progress = $("progress");
  const result = $("result");
  const saveStatus = $("save-status");
  const generalError = $("general-error");
  const nameInput = $("conversion_name");
  const search = $("asset-search");
  const results = $("asset-results");
  const chosen = $("asset-chosen");
  const assetIdInput = $("asset_id");
  const namePattern = new RegExp(form.dataset.conversionNamePattern);
  const reserved = (form.dataset.reservedConversionNames || "").split(",").filter(Boolean);
  const JOB_POLL_MS = 500;
  const JOB_POLL_LIMIT = 240; // two minutes

  // API field name -> the id of the form control it concerns ("<id>-error" holds messages).
  const FIELD_FOR = {
    image: "image", file: "image", conversion_name: "conversion_name", asset_id: "asset_id",
    metadata: "metadata", disposition: "disposition", mode: "disposition",
    bg_mode: "bg_mode", strength: "strength", remove_artifacts: "remove_artifacts",
    format: "format", size: "size", bg_color: "bg_color", crop: "crop", crop_margin: "crop_margin",
  };
  const CONTROL_FOR = { asset_id: "asset-search", disposition: null };

  let originalUrl = null;
  let resultUrl = null;
  let pollTimer = null;

  // --- errors ------------------------------------------------------------------------------

  function errorSlot(field) {
    const id = FIELD_FOR[field];
    return id ? $(id + "-error") : null;
  }

  function setFieldError(field, messages) {
    const slot = errorSlot(field);
    if (!slot) return false;
    slot.textContent = messages.join(" ");
    const controlId = field in CONTROL_FOR ? CONTROL_FOR[field] : FIELD_FOR[field];
    const control = controlId ? $(controlId) : null;
    if (control) control.setAttribute("aria-invalid", messages.length ? "true" : "false");
    return true;
  }

  function clearErrors() {
    for (const field of Object.keys(FIELD_FOR)) {
      if (field === "conversion_name") continue; // owned by the as-you-type check
      setFieldError(field, []);
    }
    generalError.textContent = "";
  }

  function showApiError(body, status) {
    const general = [];
    const errors = (body && body.errors) || {};
    for (const [field, messages] of Object.entries(errors)) {
      if (!setFieldError(field, messages)) general.push(field + ": " + messages.join(" "));
    }
    if (!Object.keys(errors).length) {
      general.push((body && body.message) || "the service answered " + status + "; try again");
    }
    generalError.textContent = general.join(" ");
  }

  // --- the image: name, size, dimensions --------------------------------------------------

  function humanSize(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    const short = unit === 0 ? "" : " (" + value.toFixed(1) + " " + units[unit] + ")";
    return bytes.toLocaleString("en") + " bytes" + short;
  }

  function describeFile() {
    const file = fileInput.files[0];
    setFieldError("image", []);
    if (originalUrl) URL.revokeObjectURL(originalUrl);
    originalUrl = null;
    if (!file) { $("file-info").hidden = true; return; }
    originalUrl = URL.createObjectURL(file);
    $("file-name").textContent = file.name;
    $("file-size").textContent = humanSize(file.size);
    const dims = $("file-dimensions");
    dims.textContent = "reading…";
    $("file-info").hidden = false;
    const probe = new Image();
    probe.onload = () => { dims.textContent = probe.naturalWidth + " × " + probe.naturalHeight + " px"; };
    probe.onerror = () => { dims.textContent = "unknown: the browser cannot read this file (the service also reads HEIC and TIFF)"; };
    probe.src = originalUrl;
  }

  fileInput.addEventListener("change", describeFile);
  // A file chosen before this script ran (a slow load) or kept by the browser when the
  // page is shown again would otherwise never be described.
  if (fileInput.files.length) describeFile();
  ["dragenter", "dragover"].forEach((type) => dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("dragover");
  }));
  ["dragleave", "drop"].forEach((type) => dropzone.addEventListener(type, () => dropzone.classList.remove("dragover")));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      fileInput.files = event.dataTransfer.files;
      describeFile();
    }
  });

  // --- what to do (rendered only for roles that may save) ---------------------------------

  function action() {
    const checked = form.querySelector('input[name="action"]:checked');
    return checked ? checked.value : "get_image";
  }

  function showActionFields() {
    const current = action();
    const picker = $("asset-picker");
    if (!picker) return;
    picker.hidden = current === "get_image";
    $("asset-picker-label").textContent = current === "add_conversion"
      ? "Asset that receives the conversion" : "Source asset (optional)";
    $("conversion-fields").hidden = current !== "add_conversion";
    $("new-asset-fields").hidden = current !== "add_new_asset";
  }

  form.querySelectorAll('input[name="action"]').forEach((radio) => radio.addEventListener("change", showActionFields));
  showActionFields();

  // Python's repr() of a string, as the API's messages quote values.
  function pyRepr(text) {
    if (text.includes("'") && !text.includes('"')) return '"' + text.replace(/\\/g, "\\\\") + '"';
    return "'" + text.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
  }

  // The same rule and words as the API's conversion_name check (assets/validators.py).
  function conversionNameProblem(name) {
    if (name === "") return "is required; give a name matching " + form.dataset.conversionNamePattern;
    if (!namePattern.test(name)) return "must match " + form.dataset.conversionNamePattern + ", got " + pyRepr(name);
    if (reserved.includes(name)) return "'" + name + "' is reserved for the asset's own file; choose another name";
    return null;
  }

  function checkConversionName() {
    const problem = conversionNameProblem(nameInput.value);
    setFieldError("conversion_name", problem ? [problem] : []);
    return !problem;
  }

  if (nameInput) {
    nameInput.addEventListener("input", checkConversionName);
    checkConversionName();
  }

  // A searchable picker over GET /api/v1/assets?name=<text> (the session authenticates).
  // Each result shows a small rendition of the asset (SPEC §9): 64 px, 128 on dense
  // screens, the sizes the admin's lists use too, so they are made once and reused.
  const PICKER_SIDE = 64;

  function thumbnail(asset) {
    const img = document.createElement("img");
    const base = asset.url.split("?")[0];
    const at = (side) => base + "?w=" + side + "&h=" + side;
    img.src = at(PICKER_SIDE);
    if (Math.max(asset.width, asset.height) > PICKER_SIDE) img.srcset = at(PICKER_SIDE) + " 1x, " + at(2 * PICKER_SIDE) + " 2x";
    img.width = asset.width;
    img.height = asset.height;
    img.alt = "";
    img.loading = "lazy";
    img.decoding = "async";
    img.className = (asset.width >= asset.height ? "wide" : "tall") + (asset.content_type === "image/jpeg" ? "" : " checkerboard");
    const tile = document.createElement("span");
    tile.className = "thumb picker-thumb";
    tile.append(img);
    return tile;
  }

  let searchTimer = null;
  let searchSeq = 0;

  async function runSearch() {
    const seq = ++searchSeq;
    const url = form.dataset.assetsEndpoint + "?page_size=20&name=" + encodeURIComponent(search.value.trim());
    let response, body;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      body = await response.json();
    } catch (error) {
      if (seq === searchSeq) setFieldError("asset_id", ["the asset search failed (" + error + "); try again"]);
      return;
    }
    if (seq !== searchSeq) return; // a newer search is under way
    results.replaceChildren();
    if (!response.ok) { setFieldError("asset_id", [body.message || "the asset search failed"]); return; }
    setFieldError("asset_id", []);
    for (const asset of body.results) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "option");
      button.dataset.assetId = asset.id;
      const label = document.createElement("span");
      label.textContent = asset.name + " · " + asset.width + "×" + asset.height + " · " + asset.id.slice(0, 8);
      button.append(thumbnail(asset), label);
      button.addEventListener("click", () => choose(asset));
      item.append(button);
      results.append(item);
    }
    if (!body.results.length) {
      const item = document.createElement("li");
      item.className = "muted";
      item.textContent = "No asset matches “" + search.value.trim() + "”.";
      results.append(item);
    }
    search.setAttribute("aria-expanded", "true");
  }

  function choose(asset) {
    clearTimeout(searchTimer);
    searchSeq += 1; // drop the answer of a search still under way
    assetIdInput.value = asset.id;
    const text = document.createElement("span");
    const strong = document.createElement("strong");
    strong.textContent = asset.name;
    text.append("Chosen: ", strong, " (" + asset.id + ")");
    chosen.replaceChildren(thumbnail(asset), text);
    results.replaceChildren();
    search.setAttribute("aria-expanded", "false");
    setFieldError("asset_id", []);
  }

  if (search) {
    search.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 200); });
    search.addEventListener("focus", () => { if (!results.children.length) runSearch(); });
  }

  // --- output options (SPEC §10) -----------------------------------------------------------

  const FORMAT_NAMES = { png: "PNG", webp: "WebP", jpg: "JPEG" };
  const formatSelect = $("format");
  const sizeSelect = $("size");
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

  // Picking a colour means "on this colour".
  colourInput.addEventListener("input", () => { form.querySelector('input[name="background"][value="color"]').checked = true; });
  formatSelect.addEventListener("change", showOutputFields);
  cropBox.addEventListener("change", showOutputFields);
  showOutputFields();

  // The output options as query parameters; defaults are left out.
  function outputQuery(params) {
    if (formatSelect.value !== "png") params.set("format", formatSelect.value);
    if (sizeSelect.value !== "full") params.set("size", sizeSelect.value);
    const colour = background();
    if (colour) params.set("bg_color", colour);
    if (cropBox.checked) {
      params.set("crop", "true");
      const margin = marginInput.value.trim();
      if (margin && margin !== "0") params.set("crop_margin", margin);
    }
  }

  // How the result is shown: over the checkerboard when it can be transparent, else on its
  // colour (the image is opaque then; the backdrop only fills the space around it).
  function showBackdrop(format, colour) {
    const backdrop = $("result-backdrop");
    const opaque = format === "jpg" || Boolean(colour);
    backdrop.classList.toggle("checkerboard", !opaque);
    backdrop.style.backgroundColor = opaque ? (colour || "#ffffff") : "";
  }

  function humanBytes(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : (bytes / 1024).toFixed(1) + " KB";
  }

  // --- submit, result, save job -----------------------------------------------------------

  function query() {
    const params = new URLSearchParams();
    const current = action();
    params.set("mode", current === "get_image" ? "get_image" : "get_image_and_save");
    if (current !== "get_image") {
      params.set("disposition", current);
      if (assetIdInput.value) params.set("asset_id", assetIdInput.value);
      if (current === "add_conversion") params.set("conversion_name", nameInput.value);
      if (current === "add_new_asset" && $("metadata").checked) params.set("metadata", "inherit");
    }
    params.set("bg_mode", $("bg_mode").value);
    params.set("strength", $("strength").value);
    params.set("remove_artifacts", $("remove_artifacts").checked ? "true" : "false");
    outputQuery(params);
    return params;
  }

  function busy(on) {
    progress.hidden = !on;
    progress.setAttribute("aria-busy", on ? "true" : "false");
    form.setAttribute("aria-busy", on ? "true" : "false");
    submit.disabled = on;
  }

  function stem(filename) {
    const base = filename.replace(/^.*[\\/]/, "");
    const dot = base.lastIndexOf(".");
    return (dot > 0 ? base.slice(0, dot) : base) || "image";
  }

  function setSaveStatus(state, text, link) {
    saveStatus.hidden = false;
    saveStatus.dataset.state = state;
    saveStatus.replaceChildren(text);
    if (link) {
      const anchor = document.createElement("a");
      anchor.id = "saved-link";
      anchor.href = link.href;
      anchor.textContent = link.text;
      saveStatus.append(" ", anchor);
    }
  }

  async function followJob(jobId, polls) {
    let body;
    try {
      const response = await fetch(form.dataset.jobsEndpoint + jobId, { credentials: "same-origin" });
      body = await response.json();
      if (!response.ok) { setSaveStatus("failed", "Not saved."); showApiError(body, response.status); return; }
    } catch (error) {
      body = { status: "QUEUED" }; // a network blip: ask again
    }
    if (body.status === "OK") {
      const assetId = body.output[0].asset_id;
      const name = body.output[0].name;
      setSaveStatus("saved", name ? "Saved as conversion “" + name + "”." : "Saved as a new asset.",
        { href: form.dataset.assetPage + assetId + "/", text: "Open the saved asset" });
    } else if (body.status === "ERROR") {
      setSaveStatus("failed", "Not saved: " + body.error.map((e) => e.error).join(" "));
    } else if (polls >= JOB_POLL_LIMIT) {
      setSaveStatus("saving", "Still saving (job " + jobId + "); the Assets page will show it when it is done.");
    } else {
      pollTimer = setTimeout(() => followJob(jobId, polls + 1), JOB_POLL_MS);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const file = fileInput.files[0];
    if (!file) { setFieldError("image", ["choose an image first"]); return; }
    if (action() === "add_conversion" && !checkConversionName()) { nameInput.focus(); return; }

    clearTimeout(pollTimer);
    result.hidden = true;
    saveStatus.hidden = true;
    delete saveStatus.dataset.jobId;
    busy(true);
    const format = formatSelect.value;
    const colour = background();
    const data = new FormData();
    data.append("image", file, file.name);
    let response;
    try {
      response = await fetch(form.dataset.endpoint + "?" + query().toString(), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.querySelector('input[name="csrfmiddlewaretoken"]').value },
      });
    } catch (error) {
      busy(false);
      generalError.textContent = "The request failed (" + error + "); check the connection and try again.";
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("image/")) {
      let body = null;
      try { body = await response.json(); } catch (error) { body = null; }
      busy(false);
      showApiError(body, response.status);
      return;
    }
    const blob = await response.blob();
    if (resultUrl) URL.revokeObjectURL(resultUrl);
    resultUrl = URL.createObjectURL(blob);
    $("original-image").src = originalUrl;
    $("result-image").src = resultUrl;
    showBackdrop(format, colour);
    const width = response.headers.get("X-Width");
    const height = response.headers.get("X-Height");
    $("result-facts").textContent = "· " + FORMAT_NAMES[format]
      + (width && height ? " · " + width + " × " + height + " px" : "") + " · " + humanBytes(blob.size);
    const download = $("download");
    download.href = resultUrl;
    download.download = stem(file.name) + "_bg_removed." + format;
    download.textContent = "Download " + FORMAT_NAMES[format];
    busy(false);
    result.hidden = false;
    const jobId = response.headers.get("X-Job-Id");
    if (jobId) {
      saveStatus.dataset.jobId = jobId;
      setSaveStatus("saving", "Saving…");
      followJob(jobId, 0);
    }
  });
})();
