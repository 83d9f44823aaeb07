// Terminals: every terminal with its status (live from terminalStatusUpdate), label and
// last activity; pair a new one (a one-time code shown large with its expiry); revoke one.
import { badge, errorBox, field, h, replace, time } from "../dom.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 20;

export function terminalsPage(main, app) {
  const list = h("div", { id: "terminals", "aria-busy": "true" }, h("p", { class: "loading" },
    "Loading terminals…"));
  const pairing = h("div", { id: "pairing" });
  const label = h("input", { name: "label", id: "pair-label", placeholder: "Front counter",
    maxlength: 200 });
  let page = 0;
  let countdown = null;

  async function load() {
    try {
      const answer = await app.merchant.get("/v1/terminals");
      show(answer.terminals);
    } catch (error) {
      replace(list, errorBox(error));
    }
    list.removeAttribute("aria-busy");
  }

  function show(terminals) {
    if (!terminals.length) {
      replace(list, h("p", { class: "empty" }, "No terminals yet: pair one below."));
      return;
    }
    const pages = Math.ceil(terminals.length / PAGE_SIZE);
    page = Math.min(page, pages - 1);
    const shown = terminals.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    replace(list,
      h("table", { class: "list" },
        h("thead", {}, h("tr", {}, ["Terminal", "Status", "Last activity", "Connected since", ""]
          .map((text) => h("th", { scope: "col" }, text)))),
        h("tbody", {}, shown.map(row))),
      pager(page, page + 1 < pages, (to) => { page = to; show(terminals); }));
  }

  function row(terminal) {
    return h("tr", { dataset: { terminalId: terminal.terminalId } },
      h("td", {}, h("strong", {}, terminal.label || "(no label)"), h("br"),
        h("code", {}, terminal.terminalId)),
      h("td", { class: "status" }, badge(terminal.status)),
      h("td", {}, time(terminal.lastActivity)),
      h("td", {}, time(terminal.connectedAt)),
      h("td", {}, h("button", { type: "button", class: "danger revoke",
        onclick: () => revoke(terminal) }, "Revoke")));
  }

  async function revoke(terminal) {
    if (!confirm(`Revoke ${terminal.label || terminal.terminalId}? It will have to pair again.`)) {
      return;
    }
    try {
      await app.merchant.request("DELETE", `/v1/devices/${encodeURIComponent(terminal.terminalId)}`);
      await load();
    } catch (error) {
      replace(list, errorBox(error));
    }
  }

  async function pair(event) {
    event.preventDefault();
    clearInterval(countdown);
    try {
      const body = label.value.trim() ? { label: label.value.trim() } : {};
      const { body: code } = await app.merchant.request("POST", "/v1/devices/codes", body);
      const remaining = h("span", { id: "pair-remaining" });
      const tick = () => {
        const seconds = Math.max(0, Math.round((new Date(code.expiresAt) - Date.now()) / 1000));
        remaining.textContent = seconds > 0
          ? `expires in ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`
          : "expired: make a new one";
      };
      tick();
      countdown = setInterval(tick, 1000);
      replace(pairing, h("div", { class: "pair-code-box" },
        h("p", {}, "Type this code into the terminal (or the ",
          h("a", { href: "/console/terminal", target: "_blank", rel: "noopener" },
            "virtual terminal"), "):"),
        h("output", { class: "pair-code", id: "pair-code" }, code.code),
        h("p", { class: "muted" }, `valid until ${time(code.expiresAt)}, once; `, remaining)));
    } catch (error) {
      replace(pairing, errorBox(error));
    }
  }

  replace(main,
    h("h1", {}, "Terminals"),
    list,
    h("section", { class: "card" },
      h("h2", {}, "Pair a terminal"),
      h("form", { id: "pair-form", class: "inline", onsubmit: pair },
        field("Label (optional)", label),
        h("button", { type: "submit", class: "primary", id: "pair-button" }, "Make a pairing code")),
      pairing));
  load();
  return {
    onLive(frame) {
      if (frame.action === "terminalStatusUpdate") load();
    },
    dispose() {
      clearInterval(countdown);
    },
  };
}
