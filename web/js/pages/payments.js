// Payments: newest first with filters (terminal, status, dates) and paging by the API's
// cursor, refreshed live on paymentComplete / paymentVoided; one payment's detail with its
// request, response, status history and webhook deliveries, and cancel while unfinished.
import { query } from "../api.js";
import { badge, errorBox, field, h, pretty, replace, select, time } from "../dom.js";
import { deliveryList } from "./webhooks.js";
import { pager } from "./pager.js";

const STATUSES = ["", "PENDING", "AWAITING_RECONNECT", "COMPLETED", "FAILED", "CANCELLED",
  "TIMEOUT", "VOIDED"];
const UNFINISHED = new Set(["PENDING", "AWAITING_RECONNECT"]);
const PAGE_SIZE = 20;

function isoOrEmpty(local) {
  return local ? new Date(local).toISOString() : "";
}

export function paymentsPage(main, app) {
  const list = h("div", { id: "payments", "aria-busy": "true" }, h("p", { class: "loading" },
    "Loading payments…"));
  const terminal = select("terminalId", [["", "any terminal"]], "");
  const status = select("status", STATUSES.map((s) => [s, s || "any status"]), "");
  const from = h("input", { type: "datetime-local", name: "from" });
  const to = h("input", { type: "datetime-local", name: "to" });
  const cursors = [""];  // cursors[n]: the cursor of page n
  let page = 0;

  async function load() {
    const target = "/v1/transactions" + query({ terminalId: terminal.value, status: status.value,
      from: isoOrEmpty(from.value), to: isoOrEmpty(to.value), limit: PAGE_SIZE,
      cursor: cursors[page] });
    try {
      const answer = await app.merchant.get(target);
      cursors[page + 1] = answer.nextCursor || null;
      show(answer.transactions, Boolean(answer.nextCursor));
    } catch (error) {
      replace(list, errorBox(error));
    }
    list.removeAttribute("aria-busy");
  }

  function show(transactions, hasNext) {
    const go = (to) => { page = to; load(); };
    if (!transactions.length) {
      replace(list, h("p", { class: "empty" }, page ? "No older payments." :
        "No payments yet: take one under New payment."), page ? pager(page, false, go) : null);
      return;
    }
    replace(list, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Payment", "Amount", "Status", "Terminal", "Created"]
        .map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, transactions.map((t) => h("tr", { dataset: { transactionId: t.transactionId } },
        h("td", {}, h("a", { href: `#/payments/${encodeURIComponent(t.transactionId)}` },
          t.transactionId)),
        h("td", { class: "amount" }, `${t.request.amount} ${t.request.currency}`),
        h("td", { class: "status" }, badge(t.status)),
        h("td", {}, h("code", {}, t.terminalId)),
        h("td", {}, time(t.createdAt)))))),
    pager(page, hasNext, go));
  }

  function filter(event) {
    event.preventDefault();
    cursors.length = 1;
    page = 0;
    load();
  }

  app.merchant.get("/v1/terminals").then((answer) => {
    for (const t of answer.terminals) {
      terminal.append(h("option", { value: t.terminalId }, t.label || t.terminalId));
    }
  }, () => {});

  replace(main,
    h("h1", {}, "Payments"),
    h("form", { class: "filters inline", id: "payment-filters", onsubmit: filter },
      field("Terminal", terminal), field("Status", status), field("From", from), field("To", to),
      h("button", { type: "submit" }, "Filter")),
    list);
  load();
  return {
    onLive(frame) {
      if (frame.action === "paymentComplete" || frame.action === "paymentVoided") load();
    },
  };
}

// The status history the public API shows: the times of a transaction's changes, and the
// changes this page saw pushed live while it was open.
function history(t, seen) {
  const rows = [["created", "PENDING", t.createdAt]];
  if (t.completedAt) rows.push(["final", t.status === "VOIDED" ? "COMPLETED" : t.status,
    t.completedAt]);
  if (t.voidedAt) rows.push(["voided", `VOIDED (${t.voidReason})`, t.voidedAt]);
  if (!t.completedAt && !t.voidedAt) rows.push(["last change", t.status, t.updatedAt]);
  for (const frame of seen) rows.push(["pushed live", frame.action, frame.timestamp]);
  return h("table", { class: "list compact", id: "history" },
    h("tbody", {}, rows.map(([what, status, at]) => h("tr", {},
      h("td", {}, what), h("td", {}, badge(status)), h("td", {}, time(at))))));
}

export function paymentPage(main, app, transactionId) {
  const path = `/v1/transactions/${encodeURIComponent(transactionId)}`;
  const body = h("div", { id: "payment", "aria-busy": "true" }, h("p", { class: "loading" },
    "Loading…"));
  const deliveries = h("div", { id: "payment-deliveries" });
  const seen = [];

  async function load() {
    try {
      show(await app.merchant.get(path));
    } catch (error) {
      replace(body, errorBox(error));
    }
    body.removeAttribute("aria-busy");
    deliveryList(app, deliveries, { transactionId }, load);
  }

  async function cancel(button) {
    button.disabled = true;
    try {
      await app.merchant.request("POST", `${path}/cancel`);
      await load();
    } catch (error) {
      body.prepend(errorBox(error));
      button.disabled = false;
    }
  }

  function show(t) {
    const cancelButton = UNFINISHED.has(t.status)
      ? h("button", { type: "button", class: "danger", id: "cancel-payment",
        onclick: (event) => cancel(event.target) }, "Cancel payment")
      : null;
    replace(body,
      h("dl", { class: "facts" },
        h("dt", {}, "Status"), h("dd", { id: "payment-status" }, badge(t.status)),
        h("dt", {}, "Amount"), h("dd", { class: "amount" },
          `${t.request.amount} ${t.request.currency} · ${t.request.paymentMethod}`),
        h("dt", {}, "Terminal"), h("dd", {}, h("code", {}, t.terminalId)),
        h("dt", {}, "Created"), h("dd", {}, time(t.createdAt))),
      cancelButton,
      h("h2", {}, "Status history"), history(t, seen),
      h("div", { class: "columns" },
        h("section", {}, h("h2", {}, "Request"), pretty(t.request)),
        h("section", {}, h("h2", {}, "Response"),
          t.response ? pretty(t.response) : h("p", { class: "empty" }, "No result yet."))));
  }

  replace(main, h("p", {}, h("a", { href: "#/payments" }, "← Payments")),
    h("h1", {}, "Payment ", h("code", {}, transactionId)), body,
    h("h2", {}, "Webhook deliveries"), deliveries);
  load();
  return {
    onLive(frame) {
      if (frame.transactionId === transactionId) {
        seen.push(frame);
        load();
      }
    },
  };
}
