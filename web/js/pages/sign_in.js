// Sign in with a merchant API key and secret (checked with a signed GET /v1/terminals), or
// with the admin token (checked with GET /admin/v1/merchants). Both stay in sessionStorage.
import { AdminClient, MerchantClient } from "../api.js";
import { errorBox, field, h, replace } from "../dom.js";

export function signInPage(main, app) {
  const merchantStatus = h("div", { class: "status" });
  const adminStatus = h("div", { class: "status" });
  const apiKey = h("input", { name: "apiKey", id: "api-key", autocomplete: "username",
    required: true, placeholder: "tgk_…", spellcheck: false });
  const apiSecret = h("input", { name: "apiSecret", id: "api-secret", type: "password",
    autocomplete: "current-password", required: true, placeholder: "tgs_…" });
  const adminToken = h("input", { name: "adminToken", id: "admin-token", type: "password",
    required: true, placeholder: "adm_…" });

  async function merchantSignIn(event) {
    event.preventDefault();
    replace(merchantStatus, "Checking…");
    const client = new MerchantClient(apiKey.value.trim(), apiSecret.value.trim());
    try {
      await client.get("/v1/terminals");
      app.signIn({ apiKey: client.apiKey, apiSecret: client.apiSecret });
      app.navigate("#/terminals");
    } catch (error) {
      replace(merchantStatus, errorBox(error));
    }
  }

  async function adminSignIn(event) {
    event.preventDefault();
    replace(adminStatus, "Checking…");
    const client = new AdminClient(adminToken.value.trim());
    try {
      await client.request("GET", "/admin/v1/merchants");
      app.signIn({ adminToken: client.token });
      app.navigate("#/admin");
    } catch (error) {
      replace(adminStatus, errorBox(error));
    }
  }

  replace(main,
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Your credentials stay in this tab (sessionStorage) and are sent " +
      "only as request signatures. `tillgate demo` prints them."),
    h("div", { class: "cards" },
      h("form", { class: "card", id: "merchant-sign-in", onsubmit: merchantSignIn },
        h("h2", {}, "Merchant"),
        field("API key", apiKey), field("API secret", apiSecret),
        h("button", { type: "submit", class: "primary" }, "Sign in"), merchantStatus),
      h("form", { class: "card", id: "admin-sign-in", onsubmit: adminSignIn },
        h("h2", {}, "Operator"),
        field("Admin token", adminToken),
        h("button", { type: "submit" }, "Sign in as admin"), adminStatus)));
  apiKey.focus();
}
