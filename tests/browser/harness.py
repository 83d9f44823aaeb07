"""What the browser tests share: the real `tillgate serve` on port 0 in a temporary
directory, signed merchant requests and admin requests from Python (to set up and to
check what the browser did), and a headless Chromium driven by Selenium.

Run by CTest (tests/CMakeLists.txt) with TILLGATE_BINARY and TILLGATE_BROWSER_OUT set;
by hand: TILLGATE_BINARY=build/debug/tillgate python3 tests/browser/test_serving.py
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

BINARY = os.path.abspath(os.environ.get("TILLGATE_BINARY", "build/debug/tillgate"))
OUT_DIR = os.path.abspath(os.environ.get("TILLGATE_BROWSER_OUT", "build/debug/browser"))


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method, url, body=None, headers=None):
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=30) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()},
                          response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()},
                      error.read().decode("utf-8", "replace"))


class Gateway:
    """`tillgate serve` on 127.0.0.1:0 with its own database and admin token."""

    def __init__(self, extra_env=None):
        self.dir = tempfile.TemporaryDirectory(prefix="tillgate-browser-")
        self.admin_token = "adm_" + secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TILLGATE_")}
        env.update({
            "TILLGATE_LISTEN": "127.0.0.1:0",
            "TILLGATE_DB": "sqlite:" + os.path.join(self.dir.name, "tillgate.db"),
            "TILLGATE_ADMIN_TOKEN": self.admin_token,
            "TILLGATE_WEBHOOK_ALLOW_HTTP": "1",
            "TILLGATE_WEBHOOK_ALLOW_PRIVATE": "1",
            "TILLGATE_LOG": "info",
        })
        env.update(extra_env or {})
        self.stderr = open(os.path.join(self.dir.name, "gateway.stderr"), "wb")
        self.process = subprocess.Popen([BINARY, "serve"], env=env, cwd=self.dir.name,
                                        stdout=subprocess.PIPE, stderr=self.stderr)
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Keep reading stdout so that the gateway never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _wait_for_port(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.process.stdout.readline().decode()
            if not line:
                break
            match = re.search(r"listening on [^\s:]+:(\d+)", line)
            if match:
                return int(match.group(1))
        text = self.stderr_text()
        self.stop()
        raise RuntimeError("tillgate serve did not print its port; stderr: " + text)

    def stderr_text(self):
        self.stderr.flush()
        with open(os.path.join(self.dir.name, "gateway.stderr"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.stderr.close()
        self.dir.cleanup()

    def get(self, path, headers=None):
        return http("GET", self.url + path, headers=headers)

    def admin(self, method, path, body=None):
        headers = {"Authorization": "Bearer " + self.admin_token}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        return http(method, self.url + path, body, headers)

    def new_merchant(self, name="Browser Test Coffee"):
        answer = self.admin("POST", "/admin/v1/merchants", {"name": name})
        assert answer.status == 201, answer.body
        return Merchant(self, answer.json())


class Merchant:
    def __init__(self, gateway, created):
        self.gateway = gateway
        self.merchant_id = created["merchantId"]
        self.api_key = created["apiKey"]
        self.api_secret = created["apiSecret"]

    def signed(self, method, target, body=""):
        """A request signed as merchant-api.md section 1 says."""
        timestamp = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        digest = hashlib.sha256(body.encode()).hexdigest()
        text = f"{method}\n{target}\n{timestamp}\n{digest}"
        signature = base64.b64encode(
            hmac.new(self.api_secret.encode(), text.encode(), hashlib.sha256).digest()).decode()
        headers = {"x-api-key": self.api_key, "x-timestamp": timestamp, "x-signature": signature}
        if body:
            headers["Content-Type"] = "application/json"
        return http(method, self.gateway.url + target, body or None, headers)

    def device(self, device_id, label):
        answer = self.gateway.admin("POST", f"/admin/v1/merchants/{self.merchant_id}/devices",
                                    {"deviceId": device_id, "label": label})
        assert answer.status == 201, answer.body
        return answer.json()


def chromium(width=1280, height=800):
    """Debian's headless Chromium through Debian's chromedriver, with its network log on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--disable-extensions",
                 "--no-first-run", "--disable-background-networking"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    return driver


def screenshot(driver, name, width=None, height=None):
    os.makedirs(OUT_DIR, exist_ok=True)
    if width:
        driver.set_window_size(width, height)
        time.sleep(0.3)
    path = os.path.join(OUT_DIR, name + ".png")
    driver.save_screenshot(path)
    return path


def wait_until(predicate, timeout=30, interval=0.1, what="the condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # an element not there yet
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class WebhookReceiver:
    """A receiver on 127.0.0.1 that verifies every delivery's Standard Webhooks signature
    (docs/webhooks.md) with the secret it is given, and keeps what it got."""

    def __init__(self):
        import http.server

        receiver = self
        self.secret = None
        self.events = []  # (verified, body as JSON)
        self.bodies = []  # the exact bodies, as text, in the order received
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                verified = receiver.verify({k.lower(): v for k, v in self.headers.items()}, body)
                event = json.loads(body or b"{}")
                with receiver.lock:
                    receiver.events.append((verified, event))
                    receiver.bodies.append(body.decode())
                # The endpoint's creation pings before its secret is known here.
                ping = event.get("eventType") == "ping"
                self.send_response(200 if verified or ping else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, headers, body):
        if not self.secret or "webhook-id" not in headers:
            return False
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(hmac.compare_digest(expected, entry)
                   for entry in headers.get("webhook-signature", "").split())

    def payment_events(self, transaction_id):
        with self.lock:
            return [(ok, e) for ok, e in self.events
                    if e.get("data", {}).get("transactionId") == transaction_id]

    def payment_bodies(self, transaction_id):
        """The exact bodies received for that payment's events."""
        with self.lock:
            return [body for body, (_, e) in zip(self.bodies, self.events)
                    if e.get("data", {}).get("transactionId") == transaction_id]

    def stop(self):
        self.server.shutdown()
