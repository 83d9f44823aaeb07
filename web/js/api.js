// The public APIs as the console calls them: merchant requests signed in the browser with
// WebCrypto (HMAC-SHA256, docs/api.md#authentication), admin requests with the admin
// token, and the POS WebSocket for live updates. The secret never leaves this page except
// as signatures; it lives in sessionStorage (docs/decisions.md).

const encoder = new TextEncoder();

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function subtle() {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new ApiError(0, "INSECURE_CONTEXT",
      "this browser offers WebCrypto only on https:// or http://localhost / 127.0.0.1: " +
      "open the console there to sign requests");
  }
  return crypto.subtle;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(buffer) {
  let text = "";
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  return btoa(text);
}

export async function signature(secret, method, target, timestamp, body) {
  const digest = hex(await subtle().digest("SHA-256", encoder.encode(body)));
  const key = await subtle().importKey("raw", encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const text = `${method}\n${target}\n${timestamp}\n${digest}`;
  return base64(await subtle().sign("HMAC", key, encoder.encode(text)));
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, "BAD_ANSWER", `not JSON (HTTP ${response.status})`);
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.code || `HTTP_${response.status}`,
      body?.message || response.statusText, body?.details);
  }
  return { status: response.status, body };
}

async function send(method, target, headers, body) {
  let response;
  try {
    response = await fetch(target, { method, headers, body: body || undefined,
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  } catch (failure) {
    throw new ApiError(0, "NETWORK_ERROR", `the gateway did not answer: ${failure.message}`);
  }
  return answer(response);
}

export class MerchantClient {
  constructor(apiKey, apiSecret) {
    this.apiKey = apiKey;
    this.apiSecret = apiSecret;
  }

  // target: the path with its query, exactly as sent (it is what is signed).
  async request(method, target, payload) {
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const timestamp = new Date().toISOString();
    const headers = {
      "x-api-key": this.apiKey,
      "x-timestamp": timestamp,
      "x-signature": await signature(this.apiSecret, method, target, timestamp, body),
    };
    if (body) headers["Content-Type"] = "application/json";
    return send(method, target, headers, body);
  }

  async get(target) {
    return (await this.request("GET", target)).body;
  }
}

export class AdminClient {
  constructor(token) {
    this.token = token;
  }

  async request(method, target, payload) {
    const headers = { Authorization: `Bearer ${this.token}` };
    const body = payload === undefined ? "" : JSON.stringify(payload);
    if (body) headers["Content-Type"] = "application/json";
    return send(method, target, headers, body);
  }
}

export function query(params) {
  const parts = [];
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") {
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    }
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

export function webSocketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// Handshakes in a row that never opened before the console stops trying (about 25 s of
// backoff): a browser cannot tell a refused handshake (a gateway that requires the signed
// one, TILLGATE_POS_WS_AUTH=signed) from a network failure, and each refusal spends the
// address's failed-authentication budget.
const MAX_FAILED_HANDSHAKES = 6;

// The POS WebSocket (docs/pos-guide.md): pushes terminalStatusUpdate, paymentComplete and
// paymentVoided to `onEvent`; reconnects with backoff, except after 4002 (another console
// took this API key's connection: reconnecting would make the two fight) and after
// MAX_FAILED_HANDSHAKES that never opened.
export class LiveUpdates {
  constructor(apiKey, onEvent, onState) {
    this.apiKey = apiKey;
    this.onEvent = onEvent;
    this.onState = onState;
    this.backoff = 500;
    this.failedHandshakes = 0;
    this.stopped = false;
    this.seen = new Set();  // eventIds: a replay after a reconnect is shown once
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    this.onState("connecting");
    const socket = new WebSocket(webSocketUrl(`/v1?x-api-key=${encodeURIComponent(this.apiKey)}`));
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      this.backoff = 500;
      this.failedHandshakes = 0;
      this.onState("live");
    });
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", (event) => {
      if (this.stopped) return;
      if (event.code === 4002) {
        this.onState("replaced");
        return;
      }
      if (!opened && ++this.failedHandshakes >= MAX_FAILED_HANDSHAKES) {
        this.onState("unavailable");
        return;
      }
      this.onState("reconnecting");
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    });
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.eventId) {
      if (this.seen.has(frame.eventId)) return;
      this.seen.add(frame.eventId);
    }
    this.onEvent(frame);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }
}
