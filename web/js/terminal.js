// The virtual terminal (docs/console.md): a real terminal of docs/terminal-protocol.md in
// the page. It pairs with a code (or takes a deviceId and secret), keeps its credentials
// and its journal in localStorage (it is a device), says hello on /v1/terminal/ws,
// reconnects with backoff, shows each payment.request, and answers Approve / Decline /
// Customer cancel. Every result is journaled before it is sent and re-sent after each
// hello.ok until its payment.result.ack, so a reload never loses or repeats a charge.
import { ApiError, webSocketUrl } from "./api.js";
import { badge, errorBox, field, h, replace, select, time } from "./dom.js";
import { Journal } from "./journal.js";

const CREDENTIALS_KEY = "tillgate.vt.credentials";
const SERIAL_KEY = "tillgate.vt.serial";
const LOG_LIMIT = 200;  // lines of the frame log kept on screen

const journal = new Journal();
const vt = {
  credentials: loadCredentials(),
  socket: null,
  state: "offline",
  wantOnline: true,
  backoff: 500,
  timer: null,
  connectionId: null,
  sentOn: new Set(),  // results sent on this connection (not re-sent for a repeated request)
  current: null,  // the transactionId on screen
  lastReceipt: null,
  log: [],
};

function loadCredentials() {
  try {
    return JSON.parse(localStorage.getItem(CREDENTIALS_KEY) || "null");
  } catch {
    return null;
  }
}

function serialNumber() {
  let serial = localStorage.getItem(SERIAL_KEY);
  if (!serial) {
    const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    serial = "VT-" + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
    localStorage.setItem(SERIAL_KEY, serial);
  }
  return serial;
}

function log(direction, text) {
  vt.log.unshift(`${new Date().toLocaleTimeString()} ${direction} ${text}`);
  vt.log.length = Math.min(vt.log.length, LOG_LIMIT);
  const element = document.getElementById("vt-log");
  if (element) replace(element, vt.log.map((line) => h("li", {}, line)));
}

function setState(state) {
  vt.state = state;
  const element = document.getElementById("vt-state");
  if (element) replace(element, badge(state));
}

// ---- the connection -------------------------------------------------------------------

function connect() {
  clearTimeout(vt.timer);
  if (!vt.credentials || !vt.wantOnline) return;
  setState(vt.state === "online" || vt.state === "offline" ? "connecting" : "reconnecting");
  const socket = new WebSocket(webSocketUrl("/v1/terminal/ws"));
  vt.socket = socket;
  socket.addEventListener("open", () => send({ type: "hello", deviceId: vt.credentials.deviceId,
    deviceSecret: vt.credentials.deviceSecret, software: "tillgate-virtual-terminal/1" }));
  socket.addEventListener("message", (message) => {
    if (socket === vt.socket) receive(message.data);
  });
  socket.addEventListener("close", (event) => {
    if (socket !== vt.socket) return;
    vt.socket = null;
    vt.connectionId = null;
    log("×", `closed ${event.code}`);
    if (event.code === 4001) {
      setState("refused");
      render("The gateway refused this terminal's credentials (revoked?): unpair and pair again.");
    } else if (event.code === 4002) {
      setState("replaced");
      render("Another copy of this terminal connected: this one stopped.");
    } else if (vt.wantOnline) {
      setState("reconnecting");
      vt.timer = setTimeout(connect, vt.backoff);
      vt.backoff = Math.min(vt.backoff * 2, 10000);
    } else {
      setState("offline");
    }
  });
}

function send(frame) {
  if (!vt.socket || vt.socket.readyState !== WebSocket.OPEN) return false;
  vt.socket.send(JSON.stringify(frame));
  log(">", frame.type === "hello" ? "hello" : `${frame.type} ${frame.transactionId || ""} ` +
    `${frame.status || ""}`);
  return true;
}

function sendResult(transactionId) {
  const entry = journal.entry(transactionId);
  if (!entry || !entry.result || vt.state !== "online") return;
  if (send(entry.result)) {
    vt.sentOn.add(transactionId);
    journal.sent(transactionId);
  }
}

function receive(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  log("<", `${frame.type} ${frame.transactionId || frame.code || ""}`);
  const handlers = {
    "hello.ok": helloOk,
    "payment.request": paymentRequest,
    "payment.cancel": paymentCancel,
    "payment.result.ack": resultAck,
    "payment.void": paymentVoid,
    error: (f) => render(null, f),
  };
  if (handlers[frame.type]) handlers[frame.type](frame);
}

function helloOk(frame) {
  vt.connectionId = frame.connectionId;
  vt.backoff = 500;
  vt.sentOn = new Set();
  setState("online");
  // Every result not yet acknowledged, oldest first (terminal-protocol.md).
  for (const entry of journal.unacknowledged()) sendResult(entry.request.transactionId);
  render();
}

function paymentRequest(frame) {
  const entry = journal.entry(frame.transactionId);
  if (entry && entry.result) {
    // Known and decided: never charge again; the result goes (again) unless it already
    // went on this connection after hello.ok.
    if (!vt.sentOn.has(frame.transactionId)) sendResult(frame.transactionId);
    return;
  }
  journal.seen(frame);
  vt.current = frame.transactionId;
  send({ type: "payment.ack", transactionId: frame.transactionId });
  render();
}

function paymentCancel(frame) {
  const entry = journal.entry(frame.transactionId);
  if (entry && entry.result) {
    sendResult(frame.transactionId);  // the result it has, every time it is asked
    return;
  }
  if (!entry) journal.seen({ transactionId: frame.transactionId });
  finish(frame.transactionId, { status: "CANCELLED", errorCode: "CANCELLED",
    errorMessage: frame.reason === "TIMEOUT" ? "abandoned at the deadline" :
      "cancelled by the merchant" });
}

function resultAck(frame) {
  const entry = journal.acknowledged(frame.transactionId, frame.transactionStatus);
  if (entry) {
    vt.lastReceipt = { ...entry, recorded: frame.transactionStatus };
    if (vt.current === frame.transactionId) vt.current = null;
  }
  render();
}

function paymentVoid(frame) {
  if (journal.reverse(frame.transactionId)) log("↺", `reversed ${frame.transactionId}`);
  send({ type: "payment.voided", transactionId: frame.transactionId });
  render();
}

// ---- results --------------------------------------------------------------------------

function finish(transactionId, outcome) {
  const frame = { type: "payment.result", transactionId, completedAt: new Date().toISOString(),
    ...outcome };
  journal.result(transactionId, frame);  // journaled first: a reload after this re-sends it
  sendResult(transactionId);
  render();
}

function receipt(request, outcome, card) {
  const lines = ["TILLGATE VIRTUAL TERMINAL", new Date().toISOString(),
    `${request.amount} ${request.currency}`];
  if (card) lines.push(`${card.scheme} ${card.maskedPan}`);
  lines.push(outcome.status === "SUCCESS" ? `APPROVED ${outcome.authorizationCode}` :
    `${outcome.status} ${outcome.errorCode || ""}`);
  return lines.join("\n");
}

function approve(request, scheme, pan) {
  const maskedPan = pan.trim();
  if (!/^[0-9]{0,6}[*Xx]+[0-9]{0,4}$/.test(maskedPan.replace(/[ -]/g, ""))) {
    render(null, { code: "CARD", message: "a masked number: at most the first 6 and last 4 " +
      "digits, the rest * (424242******4242)" });
    return;
  }
  const card = { scheme, maskedPan };
  const digits = crypto.getRandomValues(new Uint32Array(1))[0] % 1000000;
  const outcome = { status: "SUCCESS", authorizationCode: String(digits).padStart(6, "0"), card };
  outcome.receiptData = receipt(request, outcome, card);
  finish(request.transactionId, outcome);
}

function decline(request, code) {
  const outcome = { status: "FAILED", errorCode: code, errorMessage: `declined (${code})` };
  outcome.receiptData = receipt(request, outcome);
  finish(request.transactionId, outcome);
}

function customerCancel(request) {
  finish(request.transactionId, { status: "CANCELLED", errorCode: "CANCELLED",
    errorMessage: "the customer cancelled" });
}

// ---- identity -------------------------------------------------------------------------

async function pair(code) {
  const response = await fetch("/v1/devices/pair", { method: "POST",
    headers: { "Content-Type": "application/json" }, cache: "no-store", credentials: "omit",
    body: JSON.stringify({ code, serialNumber: serialNumber(), model: "Tillgate VT" }) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.code, body.message, body.details);
  adopt(body.deviceId, body.deviceSecret);  // stored before success is shown
}

function adopt(deviceId, deviceSecret) {
  vt.credentials = { deviceId, deviceSecret };
  localStorage.setItem(CREDENTIALS_KEY, JSON.stringify(vt.credentials));
  vt.wantOnline = true;
  connect();
  render();
}

function unpair() {
  vt.wantOnline = false;
  localStorage.removeItem(CREDENTIALS_KEY);
  vt.credentials = null;
  if (vt.socket) vt.socket.close(1000);
  vt.socket = null;
  setState("offline");
  render();
}

// "Go offline" drops the connection as a lost network would (results are journaled, not
// sent); "Go online" reconnects. Not kept across a reload: a reload comes back online.
function setOnline(online) {
  vt.wantOnline = online;
  if (online) {
    vt.backoff = 500;
    connect();
  } else if (vt.socket) {
    vt.socket.close(1000);
  }
  render();
}


// ---- the screen -----------------------------------------------------------------------

let countdown = null;

function pairingScreen() {
  const code = h("input", { id: "vt-code", name: "code", required: true, autocomplete: "off",
    placeholder: "K7MX4PQ2", maxlength: 16, class: "big-input" });
  const deviceId = h("input", { id: "vt-device-id", name: "deviceId", required: true });
  const deviceSecret = h("input", { id: "vt-device-secret", name: "deviceSecret",
    type: "password", required: true });
  const status = h("div", { id: "vt-pair-status", "aria-live": "polite" });
  return [
    h("form", { class: "card", id: "vt-pair-form", onsubmit: async (event) => {
      event.preventDefault();
      replace(status, "Pairing…");
      try {
        await pair(code.value.trim());
      } catch (error) {
        replace(status, errorBox(error));
      }
    } },
    h("h2", {}, "Pair this terminal"),
    h("p", { class: "muted" }, "Make a code in the console (Terminals → Pair a terminal). " +
      `Serial number ${serialNumber()}.`),
    field("Pairing code", code), h("button", { type: "submit", class: "primary",
      id: "vt-pair" }, "Pair"), status),
    h("form", { class: "card", id: "vt-credentials-form", onsubmit: (event) => {
      event.preventDefault();
      adopt(deviceId.value.trim(), deviceSecret.value.trim());
    } },
    h("h2", {}, "Or use existing credentials"),
    field("Device id", deviceId), field("Device secret", deviceSecret),
    h("button", { type: "submit" }, "Use these")),
  ];
}

function paymentScreen(request) {
  const scheme = select("scheme", ["VISA", "MASTERCARD", "AMEX", "VERVE"].map((s) => [s, s]),
    "VISA");
  scheme.id = "vt-scheme";
  const pan = h("input", { id: "vt-pan", name: "maskedPan", value: "424242******4242",
    size: 20 });
  const code = select("declineCode", ["DECLINED", "INSUFFICIENT_FUNDS", "DO_NOT_HONOR",
    "EXPIRED_CARD"].map((c) => [c, c]), "DECLINED");
  code.id = "vt-decline-code";
  const deadline = h("p", { id: "vt-deadline", class: "muted" });
  const tick = () => {
    const left = Math.round((new Date(request.deadline) - Date.now()) / 1000);
    deadline.textContent = Number.isNaN(left) ? "" : left > 0 ? `${left} s left` :
      "deadline passed: do not charge";
  };
  tick();
  countdown = setInterval(tick, 1000);
  const decided = journal.entry(request.transactionId)?.result;
  return h("section", { class: "card payment", id: "vt-payment" },
    h("p", { class: "muted" }, "Payment ", h("code", {}, request.transactionId)),
    h("p", { class: "big-amount", id: "vt-amount" }, `${request.amount} `,
      h("span", { class: "currency" }, request.currency)),
    h("p", {}, request.paymentMethod),
    request.products && request.products.length ? h("ul", { class: "products" },
      request.products.map((p) => h("li", {}, `${p.quantity} × ${p.name} · ${p.price}`))) : null,
    deadline,
    decided ? h("p", { id: "vt-waiting-ack" }, badge(decided.status),
      vt.state === "online" ? " sent; waiting for the gateway's acknowledgement" :
        " journaled; it is sent when the terminal is online again") :
      h("div", { class: "decide" },
        h("div", { class: "inline" }, field("Card", scheme), field("Number (masked)", pan),
          h("button", { type: "button", class: "approve", id: "vt-approve",
            onclick: () => approve(request, scheme.value, pan.value) }, "Approve")),
        h("div", { class: "inline" }, field("Decline code", code),
          h("button", { type: "button", class: "danger", id: "vt-decline",
            onclick: () => decline(request, code.value) }, "Decline")),
        h("button", { type: "button", id: "vt-customer-cancel",
          onclick: () => customerCancel(request) }, "Customer cancel")));
}

function receiptScreen() {
  const done = vt.lastReceipt;
  if (!done) return h("p", { class: "empty", id: "vt-idle" }, "Waiting for a payment…");
  return h("section", { class: "card receipt-card" },
    h("p", {}, "Last payment ", h("code", {}, done.request.transactionId), ": recorded ",
      h("span", { id: "vt-recorded" }, badge(done.recorded))),
    h("pre", { class: "receipt", id: "vt-receipt" }, done.result.receiptData ||
      `${done.request.amount} ${done.request.currency}\n${done.result.status}`));
}

function render(message, error) {
  clearInterval(countdown);
  const app = document.getElementById("app");
  if (!vt.credentials) {
    replace(app, h("header", { class: "top" }, h("span", { class: "brand" },
      "Tillgate virtual terminal")), h("main", { id: "content" }, message ? h("p", {}, message)
      : null, pairingScreen()));
    return;
  }
  const entry = vt.current ? journal.entry(vt.current) : null;
  const pending = journal.unacknowledged();
  replace(app,
    h("header", { class: "top" },
      h("span", { class: "brand" }, "Tillgate virtual terminal"),
      h("code", { id: "vt-device" }, vt.credentials.deviceId),
      h("span", { id: "vt-state" }, badge(vt.state)),
      h("button", { type: "button", id: "vt-network", onclick: () => setOnline(!vt.wantOnline) },
        vt.wantOnline ? "Go offline" : "Go online"),
      h("button", { type: "button", class: "link", id: "vt-unpair", onclick: () => {
        if (confirm("Forget this terminal's credentials?")) unpair();
      } }, "Unpair")),
    h("main", { id: "content" },
      message ? h("p", { class: "notice" }, message) : null,
      error ? errorBox(error) : null,
      entry && entry.request.amount ? paymentScreen(entry.request) : receiptScreen(),
      h("p", { class: "muted" }, "Results waiting for the gateway's acknowledgement: ",
        h("strong", { id: "vt-unacked" }, String(pending.length))),
      h("details", { class: "card" }, h("summary", {}, "Frames"),
        h("ol", { id: "vt-log", class: "log" }, vt.log.map((line) => h("li", {}, line)))),
      h("details", { class: "card" }, h("summary", {}, "Receipts"),
        h("ul", { class: "history" }, journal.data.history.map((done) => h("li", {},
          `${time(done.result?.completedAt)} ${done.request.transactionId} ` +
          `${done.request.amount ?? ""} ${done.request.currency ?? ""} → ${done.recorded}` +
          (done.voided ? " (reversed)" : "")))))));
}

// A request still undecided after a reload is shown again; the gateway re-sends it too.
for (const pendingEntry of journal.data.order.map((id) => journal.entry(id))) {
  if (pendingEntry && !pendingEntry.result && pendingEntry.request.amount) {
    vt.current = pendingEntry.request.transactionId;
  }
}
render();
connect();
