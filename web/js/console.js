// The console (docs/console.md): sign-in, then the pages of a merchant (terminals,
// payments, new payment, webhooks) and, with the admin token, the admin view. A page is
// chosen by the location's hash; each reads the API afresh when shown and when the POS
// WebSocket says something changed.
import { AdminClient, LiveUpdates, MerchantClient } from "./api.js";
import { h, replace } from "./dom.js";
import { terminalsPage } from "./pages/terminals.js";
import { paymentsPage, paymentPage } from "./pages/payments.js";
import { newPaymentPage } from "./pages/new_payment.js";
import { webhooksPage } from "./pages/webhooks.js";
import { adminPage } from "./pages/admin.js";
import { signInPage } from "./pages/sign_in.js";

const SESSION_KEY = "tillgate.console.session";

const app = {
  session: loadSession(),
  merchant: null,
  admin: null,
  live: null,
  liveState: "off",
  page: null,
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  signIn(session) {
    this.session = { ...this.session, ...session };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
    connect();
  },
  signOut() {
    sessionStorage.removeItem(SESSION_KEY);
    this.session = {};
    connect();
    this.navigate("#/signin");
  },
};

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function connect() {
  const { apiKey, apiSecret, adminToken } = app.session;
  app.merchant = apiKey && apiSecret ? new MerchantClient(apiKey, apiSecret) : null;
  app.admin = adminToken ? new AdminClient(adminToken) : null;
  if (app.live && (!app.merchant || app.live.apiKey !== apiKey)) {
    app.live.stop();
    app.live = null;
    setLiveState("off");
  }
  if (app.merchant && !app.live) {
    app.live = new LiveUpdates(apiKey, onLive, setLiveState);
  }
}

function setLiveState(state) {
  app.liveState = state;
  const indicator = document.getElementById("live");
  if (indicator) {
    indicator.textContent = { live: "● live", connecting: "○ connecting", reconnecting:
      "○ reconnecting", replaced: "✕ another console took the live connection",
      unavailable: "✕ no live updates (reload to retry)", off: "" }[state];
    indicator.className = "live live-" + state;
  }
}

function onLive(frame) {
  if (app.page && app.page.onLive) app.page.onLive(frame);
}

const routes = [
  [/^#\/terminals$/, terminalsPage, "merchant"],
  [/^#\/payments$/, paymentsPage, "merchant"],
  [/^#\/payments\/(.+)$/, paymentPage, "merchant"],
  [/^#\/new$/, newPaymentPage, "merchant"],
  [/^#\/webhooks$/, webhooksPage, "merchant"],
  [/^#\/admin$/, adminPage, "admin"],
  [/^#\/signin$/, signInPage, null],
];

function navigation() {
  const links = [];
  if (app.merchant) {
    links.push(["#/terminals", "Terminals"], ["#/payments", "Payments"],
      ["#/new", "New payment"], ["#/webhooks", "Webhooks"]);
  }
  if (app.admin) links.push(["#/admin", "Admin"]);
  const current = location.hash.split("/").slice(0, 2).join("/");
  return h("header", { class: "top" },
    h("a", { class: "brand", href: "#/terminals" }, "Tillgate"),
    h("nav", { "aria-label": "Console" },
      links.map(([href, text]) => h("a", { href, "aria-current": href === current ? "page" : null },
        text)),
      h("a", { href: "/console/terminal", target: "_blank", rel: "noopener" }, "Virtual terminal")),
    h("span", { id: "live", class: "live", "aria-live": "polite" }),
    app.merchant || app.admin
      ? h("button", { type: "button", class: "link", id: "sign-out", onclick: () => app.signOut() },
        "Sign out")
      : null);
}

function route() {
  const hash = location.hash || "";
  let match = null;
  for (const [pattern, page, needs] of routes) {
    const found = hash.match(pattern);
    if (found) {
      match = { page, needs, args: found.slice(1).map(decodeURIComponent) };
      break;
    }
  }
  if (!match || (match.needs === "merchant" && !app.merchant) ||
      (match.needs === "admin" && !app.admin)) {
    const fallback = app.merchant ? "#/terminals" : app.admin ? "#/admin" : "#/signin";
    if (hash !== fallback) {
      location.replace(fallback);
      return;
    }
    match = { page: signInPage, args: [] };
  }
  if (app.page && app.page.dispose) app.page.dispose();
  const main = h("main", { id: "content", tabindex: "-1" });
  replace(document.getElementById("app"), navigation(), main);
  setLiveState(app.liveState);
  app.page = match.page(main, app, ...match.args) || null;
}

connect();
window.addEventListener("hashchange", route);
route();
