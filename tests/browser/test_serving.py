"""How the gateway serves the console (docs/console.md): the redirect, types, ETag and 304,
the security headers on every answer, and TILLGATE_CONSOLE=0. Plain HTTP, no browser."""
import unittest

from harness import Gateway

PAGES = ["/console/", "/console/terminal", "/console/js/console.js", "/console/css/console.css"]


class ConsoleServing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gateway = Gateway()

    @classmethod
    def tearDownClass(cls):
        cls.gateway.stop()

    def assert_security_headers(self, answer, what):
        csp = answer.headers.get("content-security-policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        self.assertEqual(directives.get("default-src"), ["'self'"], what)
        self.assertEqual(directives.get("script-src"), ["'self'"], what)
        self.assertEqual(directives.get("frame-ancestors"), ["'none'"], what)
        self.assertNotIn("'unsafe-inline'", csp, what)
        self.assertNotIn("'unsafe-eval'", csp, what)
        host = f"127.0.0.1:{self.gateway.port}"
        self.assertEqual(directives.get("connect-src"),
                         ["'self'", f"ws://{host}", f"wss://{host}"], what)
        self.assertEqual(answer.headers.get("x-content-type-options"), "nosniff", what)
        self.assertEqual(answer.headers.get("referrer-policy"), "no-referrer", what)
        self.assertEqual(answer.headers.get("x-frame-options"), "DENY", what)

    def test_root_and_bare_console_redirect_to_the_console(self):
        for path in ["/", "/console"]:
            answer = self.gateway.get(path)
            self.assertEqual(answer.status, 302, path)
            self.assertEqual(answer.headers.get("location"), "/console/", path)
            self.assert_security_headers(answer, path)

    def test_each_page_has_its_type_etag_cache_control_and_security_headers(self):
        types = {"/console/": "text/html; charset=utf-8",
                 "/console/terminal": "text/html; charset=utf-8",
                 "/console/js/console.js": "text/javascript; charset=utf-8",
                 "/console/css/console.css": "text/css; charset=utf-8"}
        etags = set()
        for path in PAGES:
            answer = self.gateway.get(path)
            self.assertEqual(answer.status, 200, path)
            self.assertEqual(answer.headers.get("content-type"), types[path], path)
            self.assertEqual(answer.headers.get("cache-control"), "no-cache", path)
            self.assertRegex(answer.headers.get("etag", ""), r'^"[0-9a-f]{32}"$', path)
            etags.add(answer.headers["etag"])
            self.assert_security_headers(answer, path)
        self.assertEqual(len(etags), len(PAGES))

    def test_if_none_match_answers_304_without_a_body(self):
        for path in PAGES:
            etag = self.gateway.get(path).headers["etag"]
            for sent in [etag, "W/" + etag, '"other", ' + etag, "*"]:
                answer = self.gateway.get(path, {"If-None-Match": sent})
                self.assertEqual(answer.status, 304, f"{path} {sent}")
                self.assertEqual(answer.body, "", path)
                self.assertEqual(answer.headers.get("etag"), etag, path)
                self.assert_security_headers(answer, path)
            stale = self.gateway.get(path, {"If-None-Match": '"0123456789abcdef0123456789abcdef"'})
            self.assertEqual(stale.status, 200, path)
            self.assertGreater(len(stale.body), 0, path)

    def test_the_pages_load_scripts_only_as_files_of_this_origin(self):
        for path in ["/console/", "/console/terminal"]:
            body = self.gateway.get(path).body
            self.assertNotRegex(body, r"<script(?![^>]*\bsrc=\"/console/)", path)
            self.assertNotIn("http://", body, path)
            self.assertNotIn("https://", body, path)
            self.assertNotRegex(body, r"\son[a-z]+=", path)  # no inline handlers

    def test_unknown_console_paths_and_other_methods_are_404(self):
        for path in ["/console/nope.js", "/console/../docs/api.md", "/console/js/",
                     "/console//"]:
            self.assertEqual(self.gateway.get(path).status, 404, path)
        self.assertEqual(self.gateway.admin("POST", "/console/").status, 404)

    def test_a_hostile_host_header_adds_nothing_to_the_policy(self):
        import http.client
        served = 0
        for host in ["evil.example; script-src *", "x' 'unsafe-inline", "a\tb"]:
            connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=10)
            connection.putrequest("GET", "/console/", skip_host=True)
            connection.putheader("Host", host)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            csp = response.getheader("Content-Security-Policy") or ""
            connection.close()
            if response.status != 200:
                continue  # refused as malformed HTTP: nothing is served at all
            served += 1
            self.assertIn("connect-src 'self';", csp, host)
            self.assertNotIn("evil", csp, host)
            self.assertNotIn("unsafe", csp, host)
        self.assertGreaterEqual(served, 2)
        self.assertEqual(self.gateway.get("/healthz").status, 200)  # still serving

    def test_the_api_is_unchanged_beside_the_console(self):
        self.assertEqual(self.gateway.get("/healthz").status, 200)
        self.assertEqual(self.gateway.get("/v1/terminals").status, 401)


class ConsoleOff(unittest.TestCase):
    def test_tillgate_console_0_serves_nothing(self):
        gateway = Gateway({"TILLGATE_CONSOLE": "0"})
        try:
            for path in ["/", "/console", *PAGES]:
                answer = gateway.get(path)
                self.assertEqual(answer.status, 404, path)
                self.assertEqual(answer.json()["code"], "NOT_FOUND", path)
                self.assertNotIn("content-security-policy", answer.headers, path)
            self.assertEqual(gateway.get("/healthz").status, 200)
        finally:
            gateway.stop()

    def test_a_bad_tillgate_console_value_stops_the_start(self):
        with self.assertRaises(RuntimeError) as refused:
            Gateway({"TILLGATE_CONSOLE": "maybe"}).stop()
        self.assertIn("TILLGATE_CONSOLE", str(refused.exception))


if __name__ == "__main__":
    unittest.main()
