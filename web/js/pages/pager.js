// Previous / next buttons of a paged list.
import { h } from "../dom.js";

export function pager(page, hasNext, go) {
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: page === 0, onclick: () => go(page - 1) }, "← Newer"),
    h("span", {}, `page ${page + 1}`),
    h("button", { type: "button", disabled: !hasNext, onclick: () => go(page + 1) }, "Older →"));
}
