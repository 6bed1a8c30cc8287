// Words for people. The API's messages are exact and meant for programmers ("must match
// ^[a-zA-Z0-9_-]{1,30}$", "at most 52428800 bytes"); the pages say the same in words
// (letters, digits, - and _; "larger than the 50 MB limit"), and fall back to the API's
// own message for anything else. The API itself keeps its messages.

const UNITS = ["KB", "MB", "GB", "TB"];

// Sizes as people read them: "930 bytes", "225 KB", "2.3 MB" (binary multiples, as
// assets/templatetags/people.py says them on the server).
export function humanSize(bytes) {
  if (bytes < 1024) return bytes === 1 ? "1 byte" : bytes + " bytes";
  let value = bytes, unit = "";
  for (unit of UNITS) {
    value /= 1024;
    if (Math.round(value) < 1024) break;
  }
  const rounded = value < 100 ? Math.round(value * 10) / 10 : Math.round(value);
  return rounded + " " + unit;
}

function body() { return document.body.dataset; }
export const maxUploadBytes = () => Number(body().maxUploadBytes || 0);
export const maxPixels = () => Number(body().maxPixels || 0);

export function tooLargeWords(size) {
  return "This file is " + humanSize(size) + ", larger than the " + humanSize(maxUploadBytes()) + " limit. Choose a smaller file.";
}

// Why a file cannot be sent, said before sending it; null when it can be.
export function fileProblem(file) {
  if (!file) return "Choose an image first.";
  if (maxUploadBytes() && file.size > maxUploadBytes()) return tooLargeWords(file.size);
  if (file.size === 0) return "This file is empty. Choose an image.";
  return null;
}

const megapixels = (pixels) => Math.round(pixels / 100000) / 10;

const CONVERSION_NAME = /^[a-zA-Z0-9_-]{1,30}$/;
const quote = (text) => "“" + text + "”";

// Why `name` cannot name a conversion, in words; null when it can.
export function conversionNameProblem(name, reserved = ["original"]) {
  if (name === "") return "Give the conversion a name: letters, digits, - and _, up to 30.";
  if (reserved.includes(name)) return quote(name) + " is the name of the asset’s own file; choose another name.";
  if (name.length > 30) return "A conversion name has at most 30 characters; " + quote(name) + " has " + name.length + ".";
  if (CONVERSION_NAME.test(name)) return null;
  const others = [...new Set([...name].filter((ch) => !/[a-zA-Z0-9_-]/.test(ch)))];
  const named = others.map((ch) => (ch === " " ? "a space" : quote(ch)));
  const shown = named.length > 1 ? named.slice(0, -1).join(", ") + " and " + named[named.length - 1] : named[0];
  return "A conversion name uses only letters, digits, - and _; " + quote(name) + " has " + shown + ".";
}

const TYPE_WORDS = {
  number: "a number", integer: "a whole number", string: "text", boolean: "yes or no",
  array: "a list", object: "a group of fields (a JSON object)", null: "empty",
};

// A JSON Schema violation (the API's jsonschema message) in words; `rule` is the schema of
// the field, when known, for the limits the message does not state.
export function schemaWords(message, rule = {}) {
  let m;
  if ((m = message.match(/^'(.+)' is a required property$/))) return "Required: fill it in.";
  if ((m = message.match(/is not of type (.+)$/))) {
    const types = [...m[1].matchAll(/'(\w+)'/g)].map((t) => TYPE_WORDS[t[1]] || t[1]);
    return "Must be " + types.join(" or ") + ".";
  }
  if ((m = message.match(/is less than the minimum of (.+)$/))) return "Must be at least " + m[1] + ".";
  if ((m = message.match(/is less than or equal to the minimum of (.+)$/))) return "Must be more than " + m[1] + ".";
  if ((m = message.match(/is greater than the maximum of (.+)$/))) return "Must be at most " + m[1] + ".";
  if ((m = message.match(/is greater than or equal to the maximum of (.+)$/))) return "Must be less than " + m[1] + ".";
  if ((m = message.match(/is not one of \[(.*)\]$/))) return "Must be one of: " + m[1].replace(/'/g, "") + ".";
  if (/ is too short$/.test(message) && rule.minLength !== undefined) return "Must have at least " + rule.minLength + " character" + (rule.minLength === 1 ? "" : "s") + ".";
  if (/ is too long$/.test(message) && rule.maxLength !== undefined) return "Must have at most " + rule.maxLength + " characters.";
  if (/ should be non-empty$| is too short$/.test(message) && rule.minItems !== undefined) return "Needs at least " + rule.minItems + " item" + (rule.minItems === 1 ? "" : "s") + ".";
  if (/ does not match /.test(message)) {
    return "Not in the form this field takes" + (rule.description ? " (" + rule.description + ")" : "") + (rule.examples ? ", for example " + quote(rule.examples[0]) : "") + ".";
  }
  if ((m = message.match(/is not a '([\w-]+)'$/))) {
    const formats = { date: "a date like 2024-05-31", "date-time": "a date and time like 2024-05-31T14:00:00Z", email: "an e-mail address", uri: "a web address (https://…)" };
    return "Must be " + (formats[m[1]] || "a valid " + m[1]) + ".";
  }
  return message.charAt(0).toUpperCase() + message.slice(1);
}

// An API error for one field, in words: `value` is what was sent, when the page knows it.
export function apiFieldWords(field, message, { code, status, value } = {}) {
  if (status === 413 || /^at most \d+ bytes$/.test(message)) {
    return typeof value === "number" ? tooLargeWords(value) : "The file is larger than the " + humanSize(maxUploadBytes()) + " limit. Choose a smaller file.";
  }
  let m;
  if ((m = message.match(/the image is (\d+)x(\d+) = (\d+) pixels, over the limit of (\d+) pixels/))) {
    return "The image is " + m[1] + " × " + m[2] + " pixels (" + megapixels(+m[3]) + " megapixels), over the " + megapixels(+m[4]) + "-megapixel limit. Scale it down and try again.";
  }
  if (/must match \^\[a-zA-Z0-9_-\]\{1,30\}\$|is reserved for the asset's own file|give a name matching/.test(message) && typeof value === "string") {
    return conversionNameProblem(value) || message;
  }
  return message.charAt(0).toUpperCase() + message.slice(1);
}

// Show `messages` under the control `control` (its "<id>-error" slot), marking it invalid.
export function setFieldError(control, messages) {
  if (!control) return false;
  const slot = document.getElementById(control.id + "-error");
  if (!slot) return false;
  slot.textContent = messages.join(" ");
  control.setAttribute("aria-invalid", messages.length ? "true" : "false");
  return true;
}

// Show an API error body on a form: each field of `errors` next to its control
// (`controls[field]`, or the element whose id is the field), the rest in `general`.
export function showApiError(answer, { controls = {}, general, values = {} }) {
  const bodyOf = answer.body || {};
  const errors = bodyOf.errors || {};
  const left = [];
  for (const [field, messages] of Object.entries(errors)) {
    const control = field in controls ? controls[field] : document.getElementById(field);
    const words = messages.map((message) => apiFieldWords(field, message, { code: bodyOf.code, status: answer.status, value: values[field] }));
    if (!setFieldError(control, words)) left.push(...words);
  }
  if (!Object.keys(errors).length) {
    left.push(bodyOf.message ? apiFieldWords("", bodyOf.message, { status: answer.status }) : "The service answered " + answer.status + "; try again.");
  }
  if (general) general.textContent = left.join(" ");
  return left;
}
