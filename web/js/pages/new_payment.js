// New payment: amount, currency, method, terminal, optional transactionId and metadata;
// standard mode (the answer comes when the terminal has decided) or webhook mode (202 at
// once). Shows the API's answer as it is.
import { errorBox, field, h, pretty, replace, select } from "../dom.js";

export function newPaymentPage(main, app) {
  const amount = h("input", { name: "amount", id: "pay-amount", required: true,
    inputmode: "decimal", pattern: "[0-9]+([.][0-9]{1,3})?", value: "12.50" });
  const currency = h("input", { name: "currency", id: "pay-currency", required: true,
    pattern: "[A-Z]{3}", maxlength: 3, value: "USD" });
  const method = select("paymentMethod", ["CARD", "CASH", "MOBILE", "OTHER"].map((m) => [m, m]),
    "CARD");
  const terminal = h("select", { name: "terminalId", id: "pay-terminal", required: true });
  const transactionId = h("input", { name: "transactionId", id: "pay-transaction-id",
    maxlength: 128, placeholder: "generated when empty" });
  const metadata = h("textarea", { name: "metadata", id: "pay-metadata", rows: 3,
    placeholder: '{"orderId": "A-1042"}' });
  const webhookMode = h("input", { type: "checkbox", name: "webhookMode", id: "pay-webhook-mode" });
  const result = h("div", { id: "pay-result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary", id: "pay-submit" }, "Take payment");

  async function loadTerminals() {
    try {
      const { terminals } = await app.merchant.get("/v1/terminals");
      const online = [...terminals].sort((a, b) => (a.status === "online" ? 0 : 1) -
        (b.status === "online" ? 0 : 1));
      replace(terminal, online.map((t) => h("option", { value: t.terminalId },
        `${t.label || t.terminalId} (${t.status})`)));
      if (!terminals.length) replace(result, h("p", { class: "empty" }, "Pair a terminal first."));
    } catch (error) {
      replace(result, errorBox(error));
    }
  }

  function request() {
    const body = { amount: amount.value.trim(), currency: currency.value.trim(),
      paymentMethod: method.value };
    if (transactionId.value.trim()) body.transactionId = transactionId.value.trim();
    if (webhookMode.checked) body.webhookMode = true;
    if (metadata.value.trim()) {
      try {
        body.metadata = JSON.parse(metadata.value);
      } catch {
        throw { code: "INVALID_METADATA", message: "metadata must be a JSON object" };
      }
    }
    return body;
  }

  async function pay(event) {
    event.preventDefault();
    let body;
    try {
      body = request();
    } catch (error) {
      replace(result, errorBox(error));
      return;
    }
    submit.disabled = true;
    replace(result, h("p", { class: "loading", id: "pay-waiting" }, webhookMode.checked
      ? "Sending…" : "Waiting for the terminal: the customer approves or declines there…"));
    const path = `/v1/terminals/${encodeURIComponent(terminal.value)}/payments`;
    try {
      const answer = await app.merchant.request("POST", path, body);
      const id = answer.body.transactionId;
      replace(result, h("div", { class: "answer" },
        h("p", {}, `HTTP ${answer.status}: `, h("strong", { id: "pay-status" },
          answer.body.status), " · ",
          h("a", { href: `#/payments/${encodeURIComponent(id)}`, id: "pay-detail" },
            "see the payment")),
        pretty(answer.body)));
    } catch (error) {
      replace(result, errorBox(error), error.details ? pretty(error.details) : null);
    }
    submit.disabled = false;
  }

  replace(main,
    h("h1", {}, "New payment"),
    h("form", { class: "card form-grid", id: "pay-form", onsubmit: pay },
      field("Amount", amount, "major units, e.g. 12.50"), field("Currency", currency),
      field("Method", method), field("Terminal", terminal),
      field("Transaction id (optional)", transactionId, "your idempotency key"),
      field("Metadata (optional, JSON)", metadata),
      h("label", { class: "check" }, webhookMode, " Webhook mode (answer 202 at once)"),
      submit),
    result);
  loadTerminals();
  return {
    onLive(frame) {
      if (frame.action === "terminalStatusUpdate") loadTerminals();
    },
  };
}
