// A searchable asset picker (the ARIA combobox pattern) over GET /api/v1/assets?name=…
// (templates/web/asset_picker.html). Typing searches; ArrowDown and ArrowUp move through
// the matches, Enter chooses, Escape closes; a click chooses too. The choice shows below
// the box with a "Clear" button, and it is undone as soon as the box is edited or emptied:
// the page never keeps a choice the person can no longer see.

// A small rendition of an asset (SPEC §9): 64 px, 128 on dense screens, in a 40-px tile.
const SIDE = 64;

export function assetThumbnail(asset, className = "picker-thumb") {
  const img = document.createElement("img");
  const base = asset.url.split("?")[0];
  const at = (side) => base + "?w=" + side + "&h=" + side;
  img.src = at(SIDE);
  if (Math.max(asset.width, asset.height) > SIDE) img.srcset = at(SIDE) + " 1x, " + at(2 * SIDE) + " 2x";
  img.width = asset.width;
  img.height = asset.height;
  img.alt = "";
  img.loading = "lazy";
  img.decoding = "async";
  img.className = (asset.width >= asset.height ? "wide" : "tall") + (asset.content_type === "image/jpeg" ? "" : " checkerboard");
  const tile = document.createElement("span");
  tile.className = "thumb " + className;
  tile.append(img);
  return tile;
}

export class AssetPicker {
  // root: the picker's element (data-endpoint); onChange(asset or null).
  constructor(root, { onChange = () => {}, exclude = null } = {}) {
    this.root = root;
    this.endpoint = root.dataset.endpoint;
    this.input = root.querySelector('[role="combobox"]');
    this.list = root.querySelector('[role="listbox"]');
    this.chosenSlot = root.querySelector(".picker-chosen");
    this.onChange = onChange;
    this.exclude = exclude;
    this.asset = null;
    this.matches = [];
    this.active = -1;
    this.timer = null;
    this.seq = 0;
    this.input.addEventListener("input", () => this.edited());
    this.input.addEventListener("focus", () => { if (!this.asset && !this.list.children.length) this.search(); });
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("blur", () => setTimeout(() => { if (!this.root.contains(document.activeElement)) this.close(); }, 150));
    this.showChoice();
  }

  get value() { return this.asset ? this.asset.id : ""; }

  edited() {
    if (this.asset) this.clear({ keepText: true });
    clearTimeout(this.timer);
    if (this.input.value.trim() === "") { this.close(); return; }
    this.timer = setTimeout(() => this.search(), 200);
  }

  key(event) {
    const open = this.input.getAttribute("aria-expanded") === "true";
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) { this.search().then(() => this.move(event.key === "ArrowDown" ? 0 : this.matches.length - 1)); return; }
      this.move(this.active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault();
      this.choose(this.matches[this.active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    }
  }

  move(index) {
    if (!this.matches.length) return;
    this.active = (index + this.matches.length) % this.matches.length;
    [...this.list.querySelectorAll('[role="option"]')].forEach((option, i) => {
      option.setAttribute("aria-selected", i === this.active ? "true" : "false");
      if (i === this.active) {
        this.input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
  }

  async search() {
    const seq = ++this.seq;
    const url = this.endpoint + "?page_size=20&name=" + encodeURIComponent(this.input.value.trim());
    let response, body;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      body = await response.json();
    } catch (error) {
      if (seq === this.seq) this.error(["The search failed (" + error + "); try again."]);
      return;
    }
    if (seq !== this.seq) return; // a newer search is under way
    if (!response.ok) { this.error([body.message || "The search failed; try again."]); return; }
    this.error([]);
    this.render(body.results.filter((asset) => asset.id !== this.exclude));
  }

  render(matches) {
    // A later answer (the search as typed, after the one made on focus) keeps the option
    // the person moved to, if it is still listed.
    const kept = this.active >= 0 ? this.matches[this.active].id : null;
    this.matches = matches;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    this.list.replaceChildren();
    matches.forEach((asset, index) => {
      const option = document.createElement("li");
      option.id = this.list.id + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.assetId = asset.id;
      const label = document.createElement("span");
      label.textContent = asset.name + " · " + asset.width + "×" + asset.height;
      option.append(assetThumbnail(asset), label);
      option.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus in the box
      option.addEventListener("click", () => this.choose(asset));
      this.list.append(option);
    });
    if (!matches.length) {
      const none = document.createElement("li");
      none.className = "muted picker-none";
      none.textContent = this.input.value.trim() ? "No asset matches “" + this.input.value.trim() + "”." : "No assets yet.";
      this.list.append(none);
    }
    this.input.setAttribute("aria-expanded", "true");
    const again = matches.findIndex((asset) => asset.id === kept);
    if (again >= 0) this.move(again);
  }

  close() {
    this.seq += 1; // drop the answer of a search still under way
    clearTimeout(this.timer);
    this.list.replaceChildren();
    this.matches = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  choose(asset) {
    this.asset = asset;
    this.input.value = asset.name;
    this.close();
    this.error([]);
    this.showChoice();
    this.onChange(asset);
  }

  clear({ keepText = false } = {}) {
    this.asset = null;
    if (!keepText) this.input.value = "";
    this.showChoice();
    this.onChange(null);
  }

  showChoice() {
    if (!this.asset) {
      const none = document.createElement("span");
      none.className = "muted";
      none.textContent = "No asset chosen.";
      this.chosenSlot.replaceChildren(none);
      return;
    }
    const text = document.createElement("span");
    const strong = document.createElement("strong");
    strong.textContent = this.asset.name;
    text.append("Chosen: ", strong);
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "plain picker-clear";
    clear.textContent = "Clear";
    clear.setAttribute("aria-label", "Clear the chosen asset " + this.asset.name);
    clear.addEventListener("click", () => { this.clear(); this.input.focus(); });
    this.chosenSlot.replaceChildren(assetThumbnail(this.asset), text, clear);
  }

  error(messages) {
    const slot = document.getElementById(this.input.id + "-error");
    if (slot) slot.textContent = messages.join(" ");
    this.input.setAttribute("aria-invalid", messages.length ? "true" : "false");
  }
}
