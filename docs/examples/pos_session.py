#!/usr/bin/env python3
"""A complete POS session over the merchant WebSocket API (docs/pos-guide.md): connect,
list the terminals, take a payment, read its result, then reconnect and resume.

Needs the `websockets` package (Debian: apt-get install python3-websockets).

    TILLGATE_URL=ws://127.0.0.1:8080 TILLGATE_API_KEY=tk_... python3 pos_session.py

Optional: TILLGATE_TERMINAL_ID (default: the first online terminal), TILLGATE_AMOUNT
(default 12.50), TILLGATE_CURRENCY (default USD). Exit code 0 when the payment succeeded.
"""
import asyncio
import json
import os
import sys
import time
import urllib.parse

import websockets


class Connection:
    """One connection, with a way to wait for the frame that answers a question."""

    def __init__(self, socket):
        self.socket = socket
        self.received = []  # frames nobody waited for yet

    @classmethod
    async def open(cls, base_url, api_key):
        # The key in the x-api-key header works too; the query works in every client.
        url = f"{base_url}/v1?x-api-key={urllib.parse.quote(api_key)}"
        return cls(await websockets.connect(url))

    async def send(self, frame):
        await self.socket.send(json.dumps(frame))

    async def next(self, matches, timeout=30.0):
        """The first frame (received or to come) for which matches(frame) is true."""
        for index, frame in enumerate(self.received):
            if matches(frame):
                return self.received.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {timeout} s")
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), remaining))
            if frame.get("action") == "forceDisconnect":
                print("replaced by a newer connection with the same API key")
            if matches(frame):
                return frame
            self.received.append(frame)

    async def close(self):
        await self.socket.close()


def answer_to(request_id):
    """The answer to the action sent with request_id: its own frame, or an error frame."""
    return lambda frame: frame.get("requestId") == request_id


async def session(base_url, api_key, terminal_id, amount, currency):
    # 1. Connect and list the terminals.
    pos = await Connection.open(base_url, api_key)
    await pos.send({"action": "getTerminals", "requestId": "terminals-1"})
    listing = await pos.next(answer_to("terminals-1"))
    for t in listing["terminals"]:
        print(f"terminal {t['terminalId']} {t['status']} {t.get('label') or ''}")
    online = [t["terminalId"] for t in listing["terminals"] if t["status"] == "online"]
    terminal = terminal_id or (online[0] if online else None)
    if terminal is None:
        raise RuntimeError("no terminal online")

    # 2. Pay: the gateway answers paymentAccepted at once, then pushes paymentComplete.
    transaction_id = f"POS-{time.time_ns()}"  # yours: a retry with it never pays twice
    await pos.send({
        "action": "payment",
        "requestId": "pay-1",
        "terminalId": terminal,
        "paymentRequest": {"transactionId": transaction_id, "amount": amount,
                           "currency": currency, "paymentMethod": "CARD"},
    })
    accepted = await pos.next(answer_to("pay-1"))
    if accepted["action"] == "error":
        raise RuntimeError(f"{accepted['code']}: {accepted['message']}")
    print(f"paymentAccepted {accepted['transactionId']} {accepted['status']}")

    # 3. The result (the customer may take a while at the terminal).
    result = await pos.next(lambda f: f.get("action") == "paymentComplete"
                            and f.get("transactionId") == transaction_id, timeout=120)
    print(f"paymentComplete {result['transactionId']} {result['status']} "
          f"eventId {result['eventId']}")
    last_event_id = result["eventId"]  # keep it (a file, a database) to resume from
    await pos.close()

    # 4. Reconnect and resume: the events after last_event_id are replayed, then live ones.
    #    A gateway that cannot replay answers an error: reconcile with getTransaction.
    pos = await Connection.open(base_url, api_key)
    await pos.send({"action": "resume", "afterEventId": last_event_id, "requestId": "resume-1"})
    await pos.send({"action": "getTransaction", "transactionId": transaction_id,
                    "requestId": "check-1"})
    check = await pos.next(answer_to("check-1"))
    state = check.get("transaction", {}).get("status") or check.get("code")
    print(f"after reconnect: {transaction_id} is {state}")
    try:
        resume_error = await pos.next(lambda f: f.get("action") == "error"
                                      and f.get("requestId") == "resume-1", timeout=1)
        print(f"resume not served ({resume_error['code']}): reconciled instead")
    except (TimeoutError, asyncio.TimeoutError):
        pass
    await pos.close()
    return result["status"]


def main():
    status = asyncio.run(session(
        base_url=os.environ.get("TILLGATE_URL", "ws://127.0.0.1:8080"),
        api_key=os.environ["TILLGATE_API_KEY"],
        terminal_id=os.environ.get("TILLGATE_TERMINAL_ID"),
        amount=os.environ.get("TILLGATE_AMOUNT", "12.50"),
        currency=os.environ.get("TILLGATE_CURRENCY", "USD"),
    ))
    sys.exit(0 if status == "SUCCESS" else 2)


if __name__ == "__main__":
    main()
