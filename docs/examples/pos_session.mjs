// A complete POS session over the merchant WebSocket API (docs/pos-guide.md): connect,
// list the terminals, take a payment, read its result, then reconnect and resume.
// The session uses only the browser's WebSocket API; under Node.js (no global WebSocket
// before version 22) the `ws` package provides the same class.
//
//   TILLGATE_URL=ws://127.0.0.1:8080 TILLGATE_API_KEY=tk_... node pos_session.mjs
//
// Optional: TILLGATE_TERMINAL_ID (default: the first online terminal), TILLGATE_AMOUNT
// (default 12.50), TILLGATE_CURRENCY (default USD). Exit code 0 when the payment succeeded.

const WebSocketClass = globalThis.WebSocket ?? (await import("ws")).WebSocket;

// One connection, with a way to wait for the frame that answers a question.
function connect(baseUrl, apiKey) {
  // Browsers cannot set headers on a WebSocket: the key goes in the query.
  const url = `${baseUrl}/v1?x-api-key=${encodeURIComponent(apiKey)}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocketClass(url);
    const received = []; // frames nobody waited for yet
    const waiting = []; // {matches, resolve, reject, timer}
    let closed = null;

    const connection = {
      send(frame) {
        socket.send(JSON.stringify(frame));
      },
      // The first frame (received or to come) for which matches(frame) is true.
      next(matches, timeoutMs = 30000) {
        const index = received.findIndex(matches);
        if (index >= 0) return Promise.resolve(received.splice(index, 1)[0]);
        if (closed) return Promise.reject(closed);
        return new Promise((resolveFrame, rejectFrame) => {
          const waiter = { matches, resolve: resolveFrame, reject: rejectFrame };
          waiter.timer = setTimeout(() => {
            waiting.splice(waiting.indexOf(waiter), 1);
            rejectFrame(new Error(`no answer within ${timeoutMs} ms`));
          }, timeoutMs);
          waiting.push(waiter);
        });
      },
      close() {
        socket.close(1000);
      },
    };

    socket.onopen = () => resolve(connection);
    socket.onerror = () => reject(new Error(`cannot connect to ${baseUrl}/v1`));
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.action === "forceDisconnect") {
        console.log("replaced by a newer connection with the same API key");
      }
      const waiter = waiting.find((w) => w.matches(frame));
      if (waiter) {
        waiting.splice(waiting.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.resolve(frame);
      } else {
        received.push(frame);
      }
    };
    socket.onclose = (event) => {
      closed = new Error(`connection closed (${event.code})`);
      for (const waiter of waiting.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(closed);
      }
    };
  });
}

// The answer to the action sent with `requestId`: its own frame, or an error frame.
const answerTo = (requestId) => (frame) => frame.requestId === requestId;

async function session({ baseUrl, apiKey, terminalId, amount, currency }) {
  // 1. Connect and list the terminals.
  let pos = await connect(baseUrl, apiKey);
  pos.send({ action: "getTerminals", requestId: "terminals-1" });
  const list = await pos.next(answerTo("terminals-1"));
  for (const t of list.terminals) {
    console.log(`terminal ${t.terminalId} ${t.status} ${t.label ?? ""}`);
  }
  const terminal = terminalId ?? list.terminals.find((t) => t.status === "online")?.terminalId;
  if (!terminal) throw new Error("no terminal online");

  // 2. Pay: the gateway answers paymentAccepted at once, then pushes paymentComplete.
  const transactionId = `POS-${Date.now()}`; // yours: a retry with it never pays twice
  pos.send({
    action: "payment",
    requestId: "pay-1",
    terminalId: terminal,
    paymentRequest: { transactionId, amount, currency, paymentMethod: "CARD" },
  });
  const accepted = await pos.next(answerTo("pay-1"));
  if (accepted.action === "error") throw new Error(`${accepted.code}: ${accepted.message}`);
  console.log(`paymentAccepted ${accepted.transactionId} ${accepted.status}`);

  // 3. The result (the customer may take a while at the terminal).
  const result = await pos.next(
    (f) => f.action === "paymentComplete" && f.transactionId === transactionId,
    120000,
  );
  console.log(`paymentComplete ${result.transactionId} ${result.status} eventId ${result.eventId}`);
  let lastEventId = result.eventId; // keep it (e.g. in localStorage) to resume from
  pos.close();

  // 4. Reconnect and resume: the events after lastEventId are replayed, then live ones.
  //    A gateway that cannot replay answers an error: reconcile with getTransaction.
  pos = await connect(baseUrl, apiKey);
  pos.send({ action: "resume", afterEventId: lastEventId, requestId: "resume-1" });
  pos.send({ action: "getTransaction", transactionId, requestId: "check-1" });
  const check = await pos.next(answerTo("check-1"));
  console.log(`after reconnect: ${transactionId} is ${check.transaction?.status ?? check.code}`);
  const resumeError = await pos.next(
    (f) => f.action === "error" && f.requestId === "resume-1",
    1000,
  ).catch(() => null);
  if (resumeError) console.log(`resume not served (${resumeError.code}): reconciled instead`);
  pos.close();
  return result.status;
}

const status = await session({
  baseUrl: process.env.TILLGATE_URL ?? "ws://127.0.0.1:8080",
  apiKey: process.env.TILLGATE_API_KEY,
  terminalId: process.env.TILLGATE_TERMINAL_ID,
  amount: process.env.TILLGATE_AMOUNT ?? "12.50",
  currency: process.env.TILLGATE_CURRENCY ?? "USD",
});
process.exit(status === "SUCCESS" ? 0 : 2);
