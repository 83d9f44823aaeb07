// The admin view (admin token): merchants (list, create), their API keys (create, revoke)
// and devices (provision). Each new secret is shown once, as the API answers it.
import { errorBox, field, h, pretty, replace, time } from "../dom.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 20;

export function adminPage(main, app) {
  const merchants = h("div", { id: "merchants" }, h("p", { class: "loading" }, "Loading…"));
  const output = h("div", { id: "admin-output", "aria-live": "polite" });
  const name = h("input", { name: "name", id: "merchant-name", required: true, maxlength: 200 });
  let page = 0;

  async function call(method, path, body, what) {
    try {
      const answer = await app.admin.request(method, path, body);
      replace(output, h("div", { class: "secret-once" }, h("p", {}, what), answer.body
        ? pretty(answer.body) : h("p", {}, `HTTP ${answer.status}`)));
      await load();
    } catch (error) {
      replace(output, errorBox(error));
    }
  }

  async function load() {
    try {
      show((await app.admin.request("GET", "/admin/v1/merchants")).body.merchants);
    } catch (error) {
      replace(merchants, errorBox(error));
    }
  }

  function actions(m) {
    const base = `/admin/v1/merchants/${encodeURIComponent(m.merchantId)}`;
    const apiKey = h("input", { name: "apiKey", placeholder: "tgk_… to revoke", size: 14 });
    const deviceId = h("input", { name: "deviceId", placeholder: "device id (optional)", size: 14 });
    return h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => call("POST", `${base}/keys`, undefined,
        "New API key: the secret is shown only now.") }, "New API key"),
      h("span", { class: "inline" }, apiKey, h("button", { type: "button", class: "danger",
        onclick: () => apiKey.value.trim() && call("DELETE",
          `${base}/keys/${encodeURIComponent(apiKey.value.trim())}`, undefined, "Key revoked.") },
      "Revoke key")),
      h("span", { class: "inline" }, deviceId, h("button", { type: "button",
        onclick: () => call("POST", `${base}/devices`,
          deviceId.value.trim() ? { deviceId: deviceId.value.trim() } : {},
          "Device provisioned: its secret is shown only now.") }, "Provision device")));
  }

  function show(items) {
    if (!items.length) {
      replace(merchants, h("p", { class: "empty" }, "No merchants yet."));
      return;
    }
    const pages = Math.ceil(items.length / PAGE_SIZE);
    page = Math.min(page, pages - 1);
    replace(merchants, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Merchant", "Created", ""].map((t) => h("th", { scope: "col" },
        t)))),
      h("tbody", {}, items.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((m) =>
        h("tr", { dataset: { merchantId: m.merchantId } },
          h("td", {}, h("strong", {}, m.name), h("br"), h("code", {}, m.merchantId)),
          h("td", {}, time(m.createdAt)), h("td", {}, actions(m)))))),
    pager(page, page + 1 < pages, (to) => { page = to; show(items); }));
  }

  replace(main,
    h("h1", {}, "Admin"),
    h("form", { class: "card inline", id: "merchant-form", onsubmit: (event) => {
      event.preventDefault();
      call("POST", "/admin/v1/merchants", { name: name.value.trim() },
        "Merchant created with its first API key: the secret is shown only now.");
    } }, field("New merchant", name), h("button", { type: "submit", class: "primary" }, "Create")),
    output,
    h("h2", {}, "Merchants"), merchants);
  load();
}
