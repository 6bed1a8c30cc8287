// A form generated from a data schema (a JSON Schema's top-level `properties`): one field per
// property, typed as the schema says, the required ones marked, each with its own error
// slot, so the API's schema violations (`errors` keyed "data.price", or "data" for a
// missing required key) show next to the field they are about, in words.
import { schemaWords } from "./words.js";

let counter = 0;

function kindOf(rule) {
  if (Array.isArray(rule.enum)) return "enum";
  const type = Array.isArray(rule.type) ? rule.type.find((t) => t !== "null") : rule.type;
  if (type === "array" && rule.items && ["string", "number", "integer"].includes(rule.items.type)) return "list";
  return ["string", "number", "integer", "boolean"].includes(type) ? type : "json";
}

const KIND_WORDS = {
  string: "text", number: "a number", integer: "a whole number", boolean: "yes or no",
  enum: "one of a list", list: "a list, one item per line", json: "JSON",
};

function control(kind, rule, value, id) {
  let element;
  if (kind === "enum" || kind === "boolean") {
    element = document.createElement("select");
    const choices = kind === "enum" ? rule.enum : [true, false];
    element.append(new Option("— not set —", ""));
    for (const choice of choices) {
      const label = kind === "boolean" ? (choice ? "Yes" : "No") : String(choice);
      element.append(new Option(label, JSON.stringify(choice), false, value !== undefined && JSON.stringify(value) === JSON.stringify(choice)));
    }
  } else if (kind === "list" || kind === "json") {
    element = document.createElement("textarea");
    element.rows = kind === "list" ? 3 : 4;
    element.spellcheck = false;
    if (value !== undefined) element.value = kind === "list" && Array.isArray(value) ? value.join("\n") : JSON.stringify(value, null, 2);
  } else {
    element = document.createElement("input");
    element.type = "text";
    if (kind !== "string") element.inputMode = kind === "integer" ? "numeric" : "decimal";
    if (rule.format === "date") element.placeholder = "YYYY-MM-DD";
    if (value !== undefined) element.value = typeof value === "string" ? value : JSON.stringify(value);
  }
  element.id = id;
  return element;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

// The value a control holds, as JSON; undefined when empty; {problem} when it cannot be read.
function valueOf(kind, rule, element) {
  const raw = element.value;
  if (raw.trim() === "") return undefined;
  if (kind === "enum" || kind === "boolean") return JSON.parse(raw);
  if (kind === "number" || kind === "integer") return NUMBER.test(raw.trim()) ? Number(raw.trim()) : raw; // the schema says why not
  if (kind === "list") {
    const items = raw.split("\n").map((line) => line.trim()).filter(Boolean);
    const numeric = rule.items && rule.items.type !== "string";
    return items.map((item) => (numeric && NUMBER.test(item) ? Number(item) : item));
  }
  if (kind === "json") {
    try { return JSON.parse(raw); } catch (error) { return { problem: "Not valid JSON: " + error.message + "." }; }
  }
  return raw;
}

export class DataForm {
  // container: where the fields go; schema: the JSON Schema; data: the current object.
  constructor(container, schema, data) {
    this.container = container;
    this.schema = schema || {};
    this.fields = new Map();
    this.extra = null;
    this.build(data || {});
  }

  get usable() { return Boolean(this.schema.properties && Object.keys(this.schema.properties).length); }

  build(data) {
    this.container.replaceChildren();
    if (!this.usable) return;
    const required = new Set(this.schema.required || []);
    for (const [key, rule] of Object.entries(this.schema.properties)) {
      const id = "data-field-" + (++counter);
      const kind = kindOf(rule || {});
      const field = document.createElement("div");
      field.className = "field";
      field.dataset.key = key;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.append((rule && rule.title) || key);
      if (required.has(key)) {
        const mark = document.createElement("span");
        mark.className = "required-mark";
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = "*";
        label.append(" ", mark);
      }
      const type = document.createElement("span");
      type.className = "type";
      type.textContent = "(" + KIND_WORDS[kind] + (required.has(key) ? ", required" : "") + ")";
      label.append(" ", type);
      const element = control(kind, rule || {}, data[key], id);
      if (required.has(key)) element.setAttribute("aria-required", "true");
      const error = document.createElement("p");
      error.className = "field-error";
      error.id = id + "-error";
      error.setAttribute("aria-live", "polite");
      const described = [error.id];
      field.append(label, element);
      if (rule && rule.description) {
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.id = id + "-hint";
        hint.textContent = rule.description;
        field.append(hint);
        described.unshift(hint.id);
      }
      element.setAttribute("aria-describedby", described.join(" "));
      field.append(error);
      this.container.append(field);
      this.fields.set(key, { kind, rule: rule || {}, element, error });
    }
    this.buildExtra(data);
  }

  // Keys the data holds that the schema does not name are kept, as JSON, so saving the
  // form loses nothing (the JSON mode can add new ones).
  buildExtra(data) {
    const named = new Set(Object.keys(this.schema.properties));
    const extra = Object.fromEntries(Object.entries(data).filter(([key]) => !named.has(key)));
    if (!Object.keys(extra).length) return;
    const id = "data-field-" + (++counter);
    const field = document.createElement("div");
    field.className = "field";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Other fields, not in the schema (a JSON object)";
    const element = document.createElement("textarea");
    element.id = id;
    element.rows = 3;
    element.spellcheck = false;
    element.value = Object.keys(extra).length ? JSON.stringify(extra, null, 2) : "";
    const error = document.createElement("p");
    error.className = "field-error";
    error.id = id + "-error";
    element.setAttribute("aria-describedby", error.id);
    field.append(label, element, error);
    this.container.append(field);
    this.extra = { element, error };
  }

  // {data, problems}: the object the fields hold, and what could not be read (by key).
  collect() {
    const data = {};
    const problems = {};
    if (this.extra && this.extra.element.value.trim()) {
      try {
        const extra = JSON.parse(this.extra.element.value);
        if (extra === null || typeof extra !== "object" || Array.isArray(extra)) throw new Error("it is not an object");
        Object.assign(data, extra);
      } catch (error) {
        problems[""] = "Other fields: not a JSON object (" + error.message + ").";
      }
    }
    for (const [key, field] of this.fields) {
      const value = valueOf(field.kind, field.rule, field.element);
      if (value && typeof value === "object" && "problem" in value && Object.keys(value).length === 1) problems[key] = value.problem;
      else if (value !== undefined) data[key] = value;
    }
    return { data, problems };
  }

  clearErrors() {
    for (const field of this.fields.values()) this.mark(field, []);
    if (this.extra) this.extra.error.textContent = "";
  }

  mark(field, messages) {
    field.error.textContent = messages.join(" ");
    field.element.setAttribute("aria-invalid", messages.length ? "true" : "false");
  }

  // Show each violation at its field; returns the messages no field took.
  showErrors(errors) {
    this.clearErrors();
    const left = [];
    const at = new Map();
    const add = (key, message) => { if (!at.has(key)) at.set(key, []); at.get(key).push(message); };
    for (const [path, messages] of Object.entries(errors)) {
      for (const message of messages) {
        const required = message.match(/^'(.+)' is a required property$/);
        const key = path === "data" && required ? required[1] : (path.match(/^data\.([^.[]+)/) || [])[1];
        if (key !== undefined && this.fields.has(key)) add(key, message);
        else left.push((path === "data" ? "" : path.replace(/^data\./, "") + ": ") + schemaWords(message));
      }
    }
    for (const [key, messages] of at) {
      const field = this.fields.get(key);
      this.mark(field, messages.map((message) => schemaWords(message, field.rule)));
    }
    return left;
  }

  focusFirstError() {
    for (const field of this.fields.values()) {
      if (field.element.getAttribute("aria-invalid") === "true") { field.element.focus(); return; }
    }
  }
}
