// A few DOM helpers: elements are built with properties and listeners, never with HTML
// text, so nothing the API answers can become markup (and the CSP forbids inline script).

// h("button", {class: "primary", onclick: fn, type: "button"}, "Pay")
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name in element && typeof value !== "string") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function time(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function pretty(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

// The API's error as it answered it: its code and message.
export function errorBox(error) {
  const code = error && error.code ? error.code : "ERROR";
  const message = error && error.message ? error.message : String(error);
  return h("div", { class: "error", role: "alert" }, h("strong", {}, code), " ", message);
}

export function badge(status) {
  const text = String(status || "unknown");
  return h("span", { class: "badge badge-" + text.toLowerCase() }, text);
}

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input,
    hint ? h("small", {}, hint) : null);
}

export function select(name, options, value) {
  return h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}
