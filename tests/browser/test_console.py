"""The console and the virtual terminal in a real headless Chromium (docs/console.md, "What
must be shown"): sign in; pair the virtual terminal in one tab from a code made in the
console in another; take a payment from the console; approve it on the virtual terminal;
see it complete in the list without reloading; see its webhook delivery (verified by a
receiver of this test); reload the virtual terminal between the charge and the ack and
check that the result is sent once and charged once; the admin view. Screenshots of each
page at desktop (1280x800) and phone (390x844) width go to TILLGATE_BROWSER_OUT."""
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness import BINARY, Gateway, WebhookReceiver, chromium, screenshot, wait_until

DESKTOP = (1280, 800)
PHONE = (390, 844)


class ConsoleInChromium(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gateway = Gateway()
        cls.merchant = cls.gateway.new_merchant()
        cls.receiver = WebhookReceiver()
        cls.driver = chromium(*DESKTOP)
        cls.driver.implicitly_wait(0)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.receiver.stop()
        cls.gateway.stop()

    # ---- helpers ------------------------------------------------------------------------

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait_for(self, css, text=None, timeout=30):
        def found():
            element = self.find(css)
            return element if text is None or text in element.text else None
        return wait_until(found, timeout, what=f"{css} {text or ''}")

    def type_into(self, css, text):
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def shoot(self, name):
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            screenshot(self.driver, f"{name}-{label}", width, height)
        self.driver.set_window_size(*DESKTOP)

    def local_journal(self):
        return json.loads(self.driver.execute_script(
            "return localStorage.getItem('tillgate.vt.journal') || '{}'"))

    def sign_in(self):
        self.driver.get(self.gateway.url + "/")
        self.wait_for("#merchant-sign-in")
        self.shoot("sign-in")
        self.type_into("#api-key", self.merchant.api_key)
        self.type_into("#api-secret", "tgs_wrong")
        self.find("#merchant-sign-in button[type=submit]").click()
        self.wait_for("#merchant-sign-in .error", "INVALID_SIGNATURE")
        self.type_into("#api-secret", self.merchant.api_secret)
        self.find("#merchant-sign-in button[type=submit]").click()
        self.wait_for("#terminals", "No terminals yet")
        self.wait_for("#live", "live")
        stored = self.driver.execute_script("return sessionStorage.getItem('tillgate.console.session')")
        self.assertIn(self.merchant.api_secret, stored)
        self.assertIsNone(self.driver.execute_script(
            "return localStorage.getItem('tillgate.console.session')"))

    def add_webhook_endpoint(self):
        self.driver.get(self.gateway.url + "/console/#/webhooks")
        self.wait_for("#endpoints", "No endpoints")
        self.type_into("#endpoint-url", self.receiver.url)
        self.find("#endpoint-form button[type=submit]").click()
        secret = self.wait_for("#endpoint-secret").text
        self.assertTrue(secret.startswith("whsec_"), secret)
        self.receiver.secret = secret
        self.wait_for("#endpoints", self.receiver.url)

    def pair_virtual_terminal(self, console):
        self.driver.get(self.gateway.url + "/console/#/terminals")
        self.type_into("#pair-label", "Virtual till")
        self.find("#pair-button").click()
        code = self.wait_for("#pair-code").text
        self.assertRegex(code, r"^[A-Z2-9]{8}$")
        self.wait_for("#pair-remaining", "expires in")
        self.shoot("terminals-pairing")
        self.driver.switch_to.new_window("tab")
        terminal = self.driver.current_window_handle
        self.driver.get(self.gateway.url + "/console/terminal")
        self.wait_for("#vt-pair-form")
        self.shoot("virtual-terminal-pairing")
        self.type_into("#vt-code", "wrongcode")
        self.find("#vt-pair").click()
        self.wait_for("#vt-pair-status", "INVALID_PAIRING_CODE")
        self.type_into("#vt-code", code.lower())
        self.find("#vt-pair").click()
        self.wait_for("#vt-state", "online")
        credentials = json.loads(self.driver.execute_script(
            "return localStorage.getItem('tillgate.vt.credentials')"))
        self.assertTrue(credentials["deviceSecret"].startswith("tds_"))
        # Back in the console: the terminal shows online without a reload.
        self.driver.switch_to.window(console)
        self.wait_for("#terminals", "Virtual till")
        self.wait_for(f"tr[data-terminal-id='{credentials['deviceId']}'] .status", "online")
        return terminal, credentials["deviceId"]

    # ---- the flow -----------------------------------------------------------------------

    def test_the_console_and_the_virtual_terminal_take_a_payment_end_to_end(self):
        self.sign_in()
        console = self.driver.current_window_handle
        self.add_webhook_endpoint()
        terminal, device_id = self.pair_virtual_terminal(console)
        self.shoot("terminals")

        # A payment from the console, approved on the virtual terminal.
        self.driver.get(self.gateway.url + "/console/#/new")
        self.wait_for(f"#pay-terminal option[value='{device_id}']")
        self.type_into("#pay-amount", "12.50")
        self.type_into("#pay-transaction-id", "CONSOLE-1")
        self.type_into("#pay-metadata", '{"orderId": "A-1042"}')
        Select(self.find("#pay-terminal")).select_by_value(device_id)
        self.find("#pay-submit").click()
        self.wait_for("#pay-waiting")
        self.driver.switch_to.window(terminal)
        self.wait_for("#vt-amount", "12.50")
        self.shoot("virtual-terminal-payment")
        Select(self.find("#vt-scheme")).select_by_value("MASTERCARD")
        self.type_into("#vt-pan", "539983******4297")
        self.find("#vt-approve").click()
        self.wait_for("#vt-recorded", "COMPLETED")
        self.wait_for("#vt-receipt", "APPROVED")
        self.shoot("virtual-terminal-receipt")
        self.driver.switch_to.window(console)
        self.wait_for("#pay-status", "SUCCESS")
        self.shoot("new-payment")

        # The list, live: a second payment (made from Python) completes on screen.
        self.driver.get(self.gateway.url + "/console/#/payments")
        self.wait_for("tr[data-transaction-id='CONSOLE-1'] .status", "COMPLETED")
        started = self.merchant.signed("POST", f"/v1/terminals/{device_id}/payments", json.dumps(
            {"amount": "3.00", "currency": "USD", "paymentMethod": "CARD",
             "transactionId": "CONSOLE-2", "webhookMode": True}))
        self.assertEqual(started.status, 202, started.body)
        self.driver.switch_to.window(terminal)
        self.wait_for("#vt-amount", "3.00")
        self.find("#vt-decline").click()
        self.wait_for("#vt-recorded", "FAILED")
        self.driver.switch_to.window(console)
        self.wait_for("tr[data-transaction-id='CONSOLE-2'] .status", "FAILED")
        self.shoot("payments")
        # The status filter asks the API for FAILED payments only.
        Select(self.find("#payment-filters select[name=status]")).select_by_value("FAILED")
        self.find("#payment-filters button[type=submit]").click()
        wait_until(lambda: not self.driver.find_elements(
            By.CSS_SELECTOR, "tr[data-transaction-id='CONSOLE-1']"), what="the filter")
        self.wait_for("tr[data-transaction-id='CONSOLE-2'] .status", "FAILED")

        # The detail page: request, response, history and the verified webhook delivery.
        self.find("tr[data-transaction-id='CONSOLE-2'] a").click()
        self.wait_for("#payment-status", "FAILED")
        self.driver.get(self.gateway.url + "/console/#/payments/CONSOLE-1")
        self.wait_for("#payment-status", "COMPLETED")
        self.wait_for("#payment", "A-1042")
        self.wait_for("#payment", "539983******4297")
        self.wait_for("#payment-deliveries", "succeeded")
        self.wait_for("#payment-deliveries", "payment.completed")
        self.shoot("payment-detail")
        events = self.receiver.payment_events("CONSOLE-1")
        self.assertEqual([ok for ok, _ in events], [True])
        # The payload the console shows is, byte for byte, the body the receiver verified.
        self.find("#payment-deliveries details.payload summary").click()
        shown = self.find("#payment-deliveries details.payload pre").get_attribute("textContent")
        self.assertEqual([shown], self.receiver.payment_bodies("CONSOLE-1"))

        self.driver.get(self.gateway.url + "/console/#/webhooks")
        self.wait_for("#deliveries", "CONSOLE-2")
        self.shoot("webhooks")
        # Disable and enable the endpoint; retry a delivery (one more attempt, verified).
        self.find("#endpoints tbody tr button:nth-of-type(2)").click()
        self.wait_for("#endpoints .badge", "disabled")
        self.find("#endpoints tbody tr button:nth-of-type(2)").click()
        self.wait_for("#endpoints .badge", "active")
        before = len(self.receiver.payment_events("CONSOLE-2"))
        row = self.driver.find_element(By.XPATH, "//div[@id='deliveries']//tr"
                                       "[@data-delivery-id][contains(., 'CONSOLE-2')]")
        row.find_element(By.CSS_SELECTOR, "button.retry").click()
        wait_until(lambda: len(self.receiver.payment_events("CONSOLE-2")) == before + 1,
                   what="the retried delivery")
        self.assertTrue(all(ok for ok, _ in self.receiver.payment_events("CONSOLE-2")))
        wait_until(lambda: self.merchant.signed(
            "GET", "/v1/webhooks/deliveries?transactionId=CONSOLE-2").json()["deliveries"][0]
            ["attemptCount"] == 2, what="the retry recorded")

        self.reload_between_charge_and_ack(console, terminal, device_id)
        self.cancel_from_the_console(console, terminal, device_id)
        self.revoke_from_the_console(console, terminal, device_id)
        self.admin_view(console)
        self.nothing_from_another_origin()

    def reload_between_charge_and_ack(self, console, terminal, device_id):
        started = self.merchant.signed("POST", f"/v1/terminals/{device_id}/payments", json.dumps(
            {"amount": "7.25", "currency": "USD", "paymentMethod": "CARD",
             "transactionId": "CONSOLE-RELOAD", "webhookMode": True}))
        self.assertEqual(started.status, 202, started.body)
        self.driver.switch_to.window(terminal)
        self.wait_for("#vt-amount", "7.25")
        self.find("#vt-network").click()  # the network drops
        self.wait_for("#vt-state", "offline")
        self.find("#vt-approve").click()  # charged and journaled, not sent
        self.wait_for("#vt-waiting-ack", "journaled")
        journal = self.local_journal()
        self.assertEqual(journal["entries"]["CONSOLE-RELOAD"]["result"]["status"], "SUCCESS")
        self.assertNotIn("sends", journal["entries"]["CONSOLE-RELOAD"])
        wait_until(lambda: self.merchant.signed("GET", "/v1/transactions/CONSOLE-RELOAD")
                   .json()["status"] == "AWAITING_RECONNECT", what="AWAITING_RECONNECT")
        self.driver.refresh()  # between the charge and the ack
        self.wait_for("#vt-state", "online")
        self.wait_for("#vt-recorded", "COMPLETED")
        journal = self.local_journal()
        self.assertEqual(journal["entries"], {})
        done = [d for d in journal["history"] if d["request"]["transactionId"] == "CONSOLE-RELOAD"]
        self.assertEqual(len(done), 1)
        self.assertEqual(done[0]["sends"], 1)  # re-sent once after the reload, never before
        record = self.merchant.signed("GET", "/v1/transactions/CONSOLE-RELOAD").json()
        self.assertEqual(record["status"], "COMPLETED")
        self.assertEqual(record["response"]["status"], "SUCCESS")
        wait_until(lambda: self.receiver.payment_events("CONSOLE-RELOAD"), what="the webhook")
        time.sleep(1)
        self.assertEqual([ok for ok, _ in self.receiver.payment_events("CONSOLE-RELOAD")], [True])
        deliveries = self.merchant.signed(
            "GET", "/v1/webhooks/deliveries?transactionId=CONSOLE-RELOAD").json()["deliveries"]
        self.assertEqual([d["eventType"] for d in deliveries], ["payment.completed"])
        self.driver.switch_to.window(console)

    def cancel_from_the_console(self, console, terminal, device_id):
        started = self.merchant.signed("POST", f"/v1/terminals/{device_id}/payments", json.dumps(
            {"amount": "1.00", "currency": "USD", "paymentMethod": "CARD",
             "transactionId": "CONSOLE-CANCEL", "webhookMode": True}))
        self.assertEqual(started.status, 202, started.body)
        self.driver.switch_to.window(terminal)
        self.wait_for("#vt-amount", "1.00")
        self.driver.switch_to.window(console)
        self.driver.get(self.gateway.url + "/console/#/payments/CONSOLE-CANCEL")
        self.wait_for("#payment-status", "PENDING")
        self.find("#cancel-payment").click()
        self.wait_for("#payment-status", "CANCELLED")
        self.driver.switch_to.window(terminal)
        self.wait_for("#vt-recorded", "CANCELLED")
        self.driver.switch_to.window(console)

    def revoke_from_the_console(self, console, terminal, device_id):
        self.driver.get(self.gateway.url + "/console/#/terminals")
        row = f"tr[data-terminal-id='{device_id}']"
        self.wait_for(row)
        self.find(f"{row} button.revoke").click()
        self.driver.switch_to.alert.accept()
        wait_until(lambda: not self.driver.find_elements(By.CSS_SELECTOR, row),
                   what="the revoked terminal gone from the list")
        self.driver.switch_to.window(terminal)
        self.wait_for("#vt-state", "refused")  # closed 4001: it does not reconnect
        self.wait_for("#content", "unpair and pair again")
        self.driver.switch_to.window(console)

    def admin_view(self, console):
        self.driver.get(self.gateway.url + "/console/#/signin")
        self.type_into("#admin-token", "adm_wrong")
        self.find("#admin-sign-in button[type=submit]").click()
        self.wait_for("#admin-sign-in .error", "UNAUTHORIZED")
        self.type_into("#admin-token", self.gateway.admin_token)
        self.find("#admin-sign-in button[type=submit]").click()
        self.wait_for("#merchants", self.merchant.merchant_id)
        self.type_into("#merchant-name", "Second Shop")
        self.find("#merchant-form button[type=submit]").click()
        self.wait_for("#admin-output", "tgs_")
        self.wait_for("#merchants", "Second Shop")
        self.shoot("admin")
        self.find("#sign-out").click()
        self.wait_for("#merchant-sign-in")
        self.assertIsNone(self.driver.execute_script(
            "return sessionStorage.getItem('tillgate.console.session')"))

    def nothing_from_another_origin(self):
        origin = self.gateway.url
        for page in ["/console/#/payments", "/console/terminal"]:
            self.driver.get(origin + page)
            time.sleep(1)
            names = self.driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)")
            self.assertTrue(names, page)
            for name in names:
                self.assertTrue(name.startswith(origin + "/") or name.startswith("ws://127.0.0.1"),
                                name)
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] in ("Network.requestWillBeSent",
                                     "Network.webSocketCreated"):
                url = message["params"].get("request", {}).get("url") or message["params"]["url"]
                self.assertTrue(url.startswith(origin) or url.startswith(
                    f"ws://127.0.0.1:{self.gateway.port}") or url.startswith("data:"), url)
        for entry in self.driver.get_log("browser"):
            self.assertNotIn("Content Security Policy", entry["message"], entry)


class VirtualTerminalCancelAndVoid(unittest.TestCase):
    """The virtual terminal honours payment.cancel (the deadline passed: it answers
    CANCELLED) and payment.void (a success reported after the transaction ended TIMEOUT:
    it reverses once and confirms with payment.voided). Short timeouts make both quick."""

    def test_a_deadline_cancels_and_a_late_success_is_voided(self):
        gateway = Gateway({"TILLGATE_PAYMENT_TIMEOUT_S": "4", "TILLGATE_RECONNECT_GRACE_S": "2"})
        driver = None
        try:
            merchant = gateway.new_merchant()
            device = merchant.device("vt-void", "Void till")
            receiver = WebhookReceiver()  # webhook mode needs an endpoint
            created = merchant.signed("POST", "/v1/webhooks/endpoints",
                                      json.dumps({"url": receiver.url}))
            self.assertEqual(created.status, 201, created.body)
            driver = chromium(*DESKTOP)
            find = lambda css: driver.find_element(By.CSS_SELECTOR, css)
            text_of = lambda css, text: text in find(css).text
            driver.get(gateway.url + "/console/terminal")
            wait_until(lambda: find("#vt-credentials-form"), what="the credentials form")
            find("#vt-device-id").send_keys(device["deviceId"])
            find("#vt-device-secret").send_keys(device["deviceSecret"])
            find("#vt-credentials-form button[type=submit]").click()
            wait_until(lambda: text_of("#vt-state", "online"), what="online")

            def pay(transaction_id):
                answer = merchant.signed("POST", "/v1/terminals/vt-void/payments", json.dumps(
                    {"amount": "5.00", "currency": "EUR", "paymentMethod": "CARD",
                     "transactionId": transaction_id, "webhookMode": True}))
                self.assertEqual(answer.status, 202, answer.body)
                wait_until(lambda: text_of("#vt-amount", "5.00"), what="the request on screen")

            status = lambda t: merchant.signed("GET", f"/v1/transactions/{t}").json()["status"]
            # Nobody decides before the deadline: payment.cancel TIMEOUT, answered CANCELLED.
            pay("VT-LATE")
            wait_until(lambda: text_of("#vt-recorded", "TIMEOUT"), timeout=30,
                       what="the cancel at the deadline")
            self.assertEqual(status("VT-LATE"), "TIMEOUT")

            # Offline past the deadline and the grace, then approved: voided on return.
            pay("VT-VOID")
            find("#vt-network").click()
            wait_until(lambda: text_of("#vt-state", "offline"), what="offline")
            wait_until(lambda: status("VT-VOID") == "TIMEOUT", timeout=30, what="TIMEOUT")
            find("#vt-approve").click()
            find("#vt-network").click()
            wait_until(lambda: text_of("#vt-recorded", "VOIDED"), timeout=30, what="VOIDED")
            journal = json.loads(driver.execute_script(
                "return localStorage.getItem('tillgate.vt.journal')"))
            self.assertEqual(journal["voided"], ["VT-VOID"])
            done = [d for d in journal["history"] if d["request"]["transactionId"] == "VT-VOID"]
            self.assertTrue(done[0]["voided"])
            self.assertEqual(status("VT-VOID"), "VOIDED")
            log = find("#vt-log").get_attribute("textContent")
            self.assertEqual(log.count("payment.voided VT-VOID"), 1, log)
            receiver.stop()
        finally:
            if driver:
                driver.quit()
            gateway.stop()


class LiveUpdatesRefused(unittest.TestCase):
    """A gateway that requires the signed POS handshake (TILLGATE_POS_WS_AUTH=signed, which
    a browser cannot send) refuses the console's live connection: the console stops trying
    after a few attempts and says so, and its pages still work."""

    def test_the_console_gives_up_live_updates_and_keeps_working(self):
        gateway = Gateway({"TILLGATE_POS_WS_AUTH": "signed"})
        driver = None
        try:
            merchant = gateway.new_merchant()
            merchant.device("till-9", "Nine")
            driver = chromium(*DESKTOP)
            find = lambda css: driver.find_element(By.CSS_SELECTOR, css)
            driver.get(gateway.url + "/console/")
            wait_until(lambda: find("#api-key"), what="the sign-in form")
            find("#api-key").send_keys(merchant.api_key)
            find("#api-secret").send_keys(merchant.api_secret)
            find("#merchant-sign-in button[type=submit]").click()
            wait_until(lambda: "Nine" in find("#terminals").text, what="the terminal list")
            wait_until(lambda: "no live updates" in find("#live").text, timeout=60,
                       what="the console giving up")
            attempts = [e for e in driver.get_log("performance")
                        if '"Network.webSocketCreated"' in e["message"]]
            self.assertEqual(len(attempts), 6)
        finally:
            if driver:
                driver.quit()
            gateway.stop()


def non_loopback_address():
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return next((a for a in out.split() if re.fullmatch(r"[0-9.]+", a) and
                 not a.startswith("127.")), None)


class InsecureContext(unittest.TestCase):
    """Opened over plain HTTP on an address that is not loopback, the page has no WebCrypto:
    the console says so (INSECURE_CONTEXT) instead of signing, and sends no request."""

    def test_sign_in_explains_that_webcrypto_needs_https_or_loopback(self):
        address = non_loopback_address()
        if address is None:
            self.skipTest("this machine has no IPv4 address besides loopback")
        gateway = Gateway({"TILLGATE_LISTEN": "0.0.0.0:0"})
        driver = None
        try:
            merchant = gateway.new_merchant()
            driver = chromium(*DESKTOP)
            find = lambda css: driver.find_element(By.CSS_SELECTOR, css)
            driver.get(f"http://{address}:{gateway.port}/console/")
            wait_until(lambda: find("#api-key"), what="the sign-in form")
            find("#api-key").send_keys(merchant.api_key)
            find("#api-secret").send_keys(merchant.api_secret)
            find("#merchant-sign-in button[type=submit]").click()
            wait_until(lambda: "INSECURE_CONTEXT" in find("#merchant-sign-in .error").text,
                       what="the explanation")
            self.assertIsNone(driver.execute_script(
                "return sessionStorage.getItem('tillgate.console.session')"))
        finally:
            if driver:
                driver.quit()
            gateway.stop()


class DemoInChromium(unittest.TestCase):
    """The README's first payment in the browser: `tillgate demo` prints the console's URL
    and the credentials; signed in, both demo terminals are online, a payment taken from
    the console completes, and its webhook reached the demo's own receiver."""

    def test_the_demo_console_shows_both_terminals_and_a_delivered_payment(self):
        directory = tempfile.TemporaryDirectory(prefix="tillgate-demo-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TILLGATE_")}
        demo = subprocess.Popen([BINARY, "demo", "--listen", "127.0.0.1:0"], env=env,
                                cwd=directory.name, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        driver = None
        try:
            printed = ""
            while "Open the console:" not in printed:
                line = demo.stdout.readline()
                self.assertTrue(line, "the demo ended before printing the console's URL")
                printed += line
            url = re.search(r"Open the console: (\S+)", printed).group(1)
            api_key = re.search(r"merchant API key\s+(\S+)", printed).group(1)
            api_secret = re.search(r"merchant secret\s+(\S+)", printed).group(1)
            threading.Thread(target=demo.stdout.read, daemon=True).start()
            driver = chromium(*DESKTOP)
            driver.get(url)
            find = lambda css: driver.find_element(By.CSS_SELECTOR, css)
            wait_until(lambda: find("#api-key"), what="the sign-in form")
            find("#api-key").send_keys(api_key)
            find("#api-secret").send_keys(api_secret)
            find("#merchant-sign-in button[type=submit]").click()
            for device in ("demo-till-1", "demo-till-2"):
                wait_until(lambda: "online" in find(
                    f"tr[data-terminal-id='{device}'] .status").text, what=f"{device} online")
            driver.get(url + "#/new")
            wait_until(lambda: find("#pay-terminal option[value='demo-till-1']"),
                       what="the terminal list")
            Select(find("#pay-terminal")).select_by_value("demo-till-1")
            find("#pay-transaction-id").send_keys("DEMO-1")
            find("#pay-submit").click()
            wait_until(lambda: "SUCCESS" in find("#pay-status").text, what="SUCCESS")
            driver.get(url + "#/payments/DEMO-1")
            wait_until(lambda: "succeeded" in find("#payment-deliveries").text,
                       what="the delivery to the demo's receiver")
        finally:
            if driver:
                driver.quit()
            demo.terminate()
            self.assertEqual(demo.wait(20), 0)
            demo.stdout.close()
            directory.cleanup()


if __name__ == "__main__":
    unittest.main()
