// Webhooks: endpoints (create with the secret shown once, edit, disable, delete) and
// deliveries with each attempt (status, error, duration), retry.
import { query } from "../api.js";
import { badge, errorBox, field, h, pretty, replace, time } from "../dom.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 20;

// A paged list of deliveries (filter: endpointId / transactionId) into `container`.
export function deliveryList(app, container, filter, onChange) {
  const cursors = [""];
  let page = 0;

  async function load() {
    try {
      const answer = await app.merchant.get("/v1/webhooks/deliveries" +
        query({ ...filter, limit: PAGE_SIZE, cursor: cursors[page] }));
      cursors[page + 1] = answer.nextCursor || null;
      show(answer.deliveries, Boolean(answer.nextCursor));
    } catch (error) {
      replace(container, errorBox(error));
    }
  }

  async function retry(delivery, button) {
    button.disabled = true;
    try {
      await app.merchant.request("POST",
        `/v1/webhooks/deliveries/${encodeURIComponent(delivery.deliveryId)}/retry`);
      await load();
      if (onChange) onChange();
    } catch (error) {
      container.prepend(errorBox(error));
      button.disabled = false;
    }
  }

  function attempts(delivery) {
    if (!delivery.attempts.length) return h("p", { class: "muted" }, "no attempt yet");
    return h("ol", { class: "attempts" }, delivery.attempts.map((a) => h("li", {},
      time(a.at), " · ", a.httpStatus ? `HTTP ${a.httpStatus}` : h("span", { class: "bad" },
        a.error || "no answer"), ` · ${a.durationMs} ms`)));
  }

  // The exact bytes every attempt sends (what the signature covers), shown as they are.
  function payload(delivery) {
    if (delivery.payload == null) return null;
    return h("details", { class: "payload" }, h("summary", {}, "Payload sent"),
      h("pre", { class: "json" }, delivery.payload));
  }

  function show(deliveries, hasNext) {
    const go = (to) => { page = to; load(); };
    if (!deliveries.length) {
      replace(container, h("p", { class: "empty" }, page ? "No older deliveries." :
        "No deliveries yet."), page ? pager(page, false, go) : null);
      return;
    }
    replace(container, h("table", { class: "list deliveries" },
      h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Payment", ""]
        .map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, deliveries.map((d) => h("tr", { dataset: { deliveryId: d.deliveryId } },
        h("td", {}, h("strong", {}, d.eventType), h("br"), h("code", {}, d.eventId), h("br"),
          h("small", {}, "to ", h("code", {}, d.endpointId))),
        h("td", { class: "status" }, badge(d.status),
          d.nextAttemptAt ? h("small", {}, h("br"), `next ${time(d.nextAttemptAt)}`) : null),
        h("td", {}, `${d.attemptCount}`, attempts(d), payload(d)),
        h("td", {}, h("a", { href: `#/payments/${encodeURIComponent(d.transactionId)}` },
          d.transactionId)),
        h("td", {}, h("button", { type: "button", class: "retry",
          onclick: (event) => retry(d, event.target) }, "Retry")))))),
    pager(page, hasNext, go));
  }

  load();
  return { reload: load };
}

export function webhooksPage(main, app) {
  const endpoints = h("div", { id: "endpoints" }, h("p", { class: "loading" }, "Loading…"));
  const deliveries = h("div", { id: "deliveries" });
  const created = h("div", { id: "endpoint-created", "aria-live": "polite" });
  const url = h("input", { name: "url", id: "endpoint-url", type: "url", required: true,
    placeholder: "https://example.com/tillgate" });
  const description = h("input", { name: "description", id: "endpoint-description",
    maxlength: 500 });
  let list = null;

  async function load() {
    try {
      show((await app.merchant.get("/v1/webhooks/endpoints")).endpoints);
    } catch (error) {
      replace(endpoints, errorBox(error));
    }
  }

  async function change(method, endpoint, body) {
    try {
      await app.merchant.request(method,
        `/v1/webhooks/endpoints/${encodeURIComponent(endpoint.endpointId)}`, body);
      await load();
    } catch (error) {
      endpoints.prepend(errorBox(error));
    }
  }

  function edit(endpoint) {
    const next = prompt("New URL for this endpoint", endpoint.url);
    if (next && next !== endpoint.url) change("PUT", endpoint, { url: next });
  }

  function show(items) {
    if (!items.length) {
      replace(endpoints, h("p", { class: "empty" }, "No endpoints: add one below."));
      return;
    }
    replace(endpoints, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Endpoint", "Status", "Events", ""]
        .map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, items.map((e) => h("tr", { dataset: { endpointId: e.endpointId } },
        h("td", {}, h("strong", {}, e.url), h("br"), h("code", {}, e.endpointId),
          e.description ? h("small", {}, h("br"), e.description) : null),
        h("td", {}, badge(e.status), ` ${e.format}`),
        h("td", {}, e.events.join(", ")),
        h("td", { class: "actions" },
          h("button", { type: "button", onclick: () => edit(e) }, "Edit URL"),
          h("button", { type: "button", onclick: () => change("PUT", e,
            { status: e.status === "active" ? "disabled" : "active" }) },
            e.status === "active" ? "Disable" : "Enable"),
          h("button", { type: "button", class: "danger", onclick: () => {
            if (confirm(`Delete ${e.url}?`)) change("DELETE", e);
          } }, "Delete")))))));
  }

  async function create(event) {
    event.preventDefault();
    const body = { url: url.value.trim() };
    if (description.value.trim()) body.description = description.value.trim();
    try {
      const { body: endpoint } = await app.merchant.request("POST", "/v1/webhooks/endpoints", body);
      replace(created, h("div", { class: "secret-once" },
        h("p", {}, "Signing secret, shown only now: keep it where your receiver reads it."),
        h("output", { id: "endpoint-secret" }, endpoint.secret)));
      url.value = "";
      await load();
    } catch (error) {
      replace(created, errorBox(error), error.details ? pretty(error.details) : null);
    }
  }

  replace(main,
    h("h1", {}, "Webhooks"),
    h("h2", {}, "Endpoints"), endpoints,
    h("form", { class: "card inline", id: "endpoint-form", onsubmit: create },
      field("URL", url), field("Description (optional)", description),
      h("button", { type: "submit", class: "primary" }, "Add endpoint")),
    created,
    h("h2", {}, "Deliveries"), deliveries);
  load();
  list = deliveryList(app, deliveries, {});
  return {
    onLive(frame) {
      if (frame.action === "paymentComplete" || frame.action === "paymentVoided") {
        // The delivery is written with the change; its first attempt follows at once.
        setTimeout(() => list.reload(), 300);
      }
    },
  };
}
