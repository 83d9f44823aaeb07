// The virtual terminal's journal in localStorage (docs/terminal-protocol.md, "What a
// terminal must keep on disk"): each transaction seen, the result written *before* it is
// sent, kept until its payment.result.ack, and the reversal of a payment.void. localStorage
// writes are synchronous, so a result in the journal survives a reload that comes right
// after. Finished entries move to a short receipt history.

const KEY = "tillgate.vt.journal";
const HISTORY_LIMIT = 20;  // receipts kept for display after their ack

const VOIDED_LIMIT = 200;  // reversals remembered, so a repeated payment.void reverses once

function empty() {
  return { entries: {}, order: [], history: [], voided: [] };
}

export class Journal {
  constructor(storage = localStorage) {
    this.storage = storage;
    try {
      this.data = { ...empty(), ...JSON.parse(storage.getItem(KEY) || "{}") };
    } catch {
      this.data = empty();
    }
  }

  save() {
    this.storage.setItem(KEY, JSON.stringify(this.data));
  }

  entry(transactionId) {
    return this.data.entries[transactionId] || null;
  }

  // A payment.request seen for the first time; a known one is left as it is.
  seen(request) {
    if (this.entry(request.transactionId)) return this.entry(request.transactionId);
    this.data.entries[request.transactionId] = { request, result: null, voided: false,
      seenAt: new Date().toISOString() };
    this.data.order.push(request.transactionId);
    this.save();
    return this.entry(request.transactionId);
  }

  // The result, journaled before it is sent; the first one stands (a charge is never made
  // or reported twice).
  result(transactionId, frame) {
    const entry = this.entry(transactionId);
    if (!entry) throw new Error(`no journal entry for ${transactionId}`);
    if (!entry.result) {
      entry.result = frame;
      this.save();
    }
    return entry.result;
  }

  // Results not yet acknowledged, oldest first.
  unacknowledged() {
    return this.data.order.map((id) => this.data.entries[id]).filter((e) => e && e.result);
  }

  acknowledged(transactionId, status) {
    const entry = this.entry(transactionId);
    if (!entry) return null;
    delete this.data.entries[transactionId];
    this.data.order = this.data.order.filter((id) => id !== transactionId);
    this.data.history.unshift({ request: entry.request, result: entry.result,
      recorded: status, voided: entry.voided, sends: entry.sends || 0 });
    this.data.history.length = Math.min(this.data.history.length, HISTORY_LIMIT);
    this.save();
    return entry;
  }

  // Counts a sending of the result (the tests read it: a reload re-sends once).
  sent(transactionId) {
    const entry = this.entry(transactionId);
    if (entry) {
      entry.sends = (entry.sends || 0) + 1;
      this.save();
    }
  }

  // payment.void: true the first time (reverse now), false for a repeat.
  reverse(transactionId) {
    if (this.data.voided.includes(transactionId)) return false;
    this.data.voided.push(transactionId);
    if (this.data.voided.length > VOIDED_LIMIT) this.data.voided.shift();
    const entry = this.entry(transactionId);
    if (entry) entry.voided = true;
    for (const done of this.data.history) {
      if (done.request.transactionId === transactionId) done.voided = true;
    }
    this.save();
    return true;
  }

  clear() {
    this.data = empty();
    this.save();
  }
}
