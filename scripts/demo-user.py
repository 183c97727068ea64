#!/usr/bin/env python3
"""A scripted user for the demo: given the login URL `zid` opens, signs in
through the emulator's hosted login pages by filling and posting their forms
(login name, password, consent), then follows the redirect to zid's loopback
callback. Used as $BROWSER by tests that sign in through the hosted login
without a real browser (tests/tests/emulator_sdk.rs).

Usage: demo-user.py URL   (DEMO_LOGIN and DEMO_PASSWORD name the user)
"""
import html.parser
import http.cookiejar
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.form = None
        self.inputs = []
        self.done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and a.get("method", "get").lower() == "post" and self.form is None:
            self.form = a.get("action", "")
        elif tag == "input" and self.form is not None:
            self.inputs.append(a)
        elif tag == "button" and self.form is not None and a.get("name"):
            self.inputs.append({"type": "submit", **a})

    def handle_endtag(self, tag):
        if tag == "form" and self.form is not None:
            self.done = True


def main():
    url = sys.argv[1]
    login = os.environ.get("DEMO_LOGIN", "alice@acme.localhost")
    password = os.environ.get("DEMO_PASSWORD", "Password1!")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    method, data = "GET", None
    for _ in range(20):
        req = urllib.request.Request(url, data=data, method=method)
        try:
            resp = opener.open(req, timeout=10)
            status, headers, body = resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read().decode("utf-8", "replace")
        if status in (301, 302, 303, 307, 308):
            url = urllib.parse.urljoin(url, headers["Location"])
            method, data = "GET", None
            continue
        if url.startswith("http://127.0.0.1") or url.startswith("http://[::1]"):
            print("demo-user: signed in; the app's loopback page answered", status, file=sys.stderr)
            return 0
        p = FormParser()
        p.feed(body)
        if p.form is None:
            print(f"demo-user: no form on {url} (HTTP {status})", file=sys.stderr)
            return 1
        fields = []
        for i in p.inputs:
            name, typ = i.get("name"), i.get("type", "text").lower()
            if not name:
                continue
            if typ == "password":
                fields.append((name, password))
            elif typ in ("text", "email") and "login" in name.lower():
                fields.append((name, login))
            elif typ == "checkbox":
                fields.append((name, i.get("value", "on")))
            elif typ in ("hidden", "submit") and typ != "submit" or (typ == "submit" and not any(f[0] == name for f in fields)):
                fields.append((name, i.get("value", "")))
        url = urllib.parse.urljoin(url, p.form)
        method, data = "POST", urllib.parse.urlencode(fields).encode()
    print("demo-user: gave up after 20 pages", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
