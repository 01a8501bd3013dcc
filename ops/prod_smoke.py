"""The production journey over real HTTP, against the processes ops/prod_smoke.sh started.

Standard library only. A ``Browser`` here behaves like a person's browser behind
the TLS-terminating proxy a production deployment has in front of gunicorn:

* every request carries ``X-Forwarded-Proto: https``, as the proxy sends it. The
  portal has no ProxyFix; gunicorn itself turns that header into
  ``wsgi.url_scheme = "https"``, for requests from the addresses in its
  ``forwarded_allow_ips`` (default ``127.0.0.1``), so Flask sees an https request;
* cookies are kept as a browser keeps them for an https origin, so the ``Secure``
  session cookie (PORTAL_ENV=production) is sent back: nothing is switched off for
  the smoke run, and the script checks that the cookie is Secure and HttpOnly;
* forms are read from the pages (their hidden fields, the CSRF token among them) and
  sent with a same-origin ``Referer``, which Flask-WTF requires on https.

Each step prints one line; the first failure prints what went wrong and exits 1. One file on purpose,
over the house's 400 lines: the journey reads top to bottom in the order of the lines it prints.
"""
import argparse
import csv
import http.client
import json
import os
import re
import sys
import time
import uuid
from datetime import date
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

REQUEST_TIMEOUT = 30  # seconds for one request
STARTED = float(os.environ.get("SMOKE_STARTED") or time.time())  # ops/prod_smoke.sh's start, for one clock


def elapsed():
    return f"[{time.time() - STARTED:6.1f}s]"


class JourneyFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise JourneyFailed(message)


def step(text):
    print(f"{elapsed()} ok {text}", flush=True)


# ---- pages and their forms --------------------------------------------------------------------

class Form:
    def __init__(self, attrs):
        self.action = attrs.get("action") or ""
        self.method = (attrs.get("method") or "get").lower()
        self.multipart = (attrs.get("enctype") or "").lower() == "multipart/form-data"
        self.fields = []  # (name, value) a browser would send as the form stands
        self.options = {}  # select / radio / checkbox name -> [(value, label text)]
        self._ids = {}  # element id -> (field name, value), to match labels to checkboxes and radios


class FormReader(HTMLParser):
    """The forms of a page, as a browser reads them: defaults, hidden fields, options and their labels."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = self._select = self._option = self._textarea = self._label = None
        self._labels = []  # (form, for-id, text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            value = attrs.get("value") or ""
            if kind in ("checkbox", "radio"):
                self._form.options.setdefault(name, []).append([value, ""])
                if attrs.get("id"):
                    self._form._ids[attrs["id"]] = (name, value)
                if "checked" in attrs:
                    self._form.fields.append((name, value))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                self._form.fields.append((name, value))
        elif tag == "select" and name:
            self._select = [name, None, []]
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value", ""), ""]
            self._select[2].append(self._option)
            if "selected" in attrs:
                self._select[1] = self._option[0]
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "label" and attrs.get("for"):
            self._label = [attrs["for"], ""]

    def handle_data(self, text):
        for open_element in (self._option, self._textarea, self._label):
            if open_element is not None:
                open_element[1] += text

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            name, selected, options = self._select
            self._form.options[name] = [[v, t.strip()] for v, t in options]
            if options:
                self._form.fields.append((name, selected if selected is not None else options[0][0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form.fields.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "label" and self._label is not None:
            self._labels.append((self._form, self._label[0], self._label[1].strip()))
            self._label = None
        elif tag == "form":
            self._form = None

    def close(self):
        super().close()
        for form, for_id, text in self._labels:
            if for_id in form._ids:
                name, value = form._ids[for_id]
                for option in form.options.get(name, []):
                    if option[0] == value:
                        option[1] = text


class Page:
    def __init__(self, url, status, headers, body):
        self.url, self.status, self.headers, self.body = url, status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    @property
    def location(self):
        return self.headers.get("Location", "")

    def visible_text(self):
        html = re.sub(r"<(script|style)\b.*?</\1>", " ", self.text, flags=re.S)
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()

    def form(self, action_ends=""):
        """The page's form posting to a URL ending with ``action_ends`` ("" = to the page itself)."""
        reader = FormReader()
        reader.feed(self.text)
        reader.close()
        path = urlsplit(self.url).path
        for form in reader.forms:
            target = urlsplit(urljoin(self.url, form.action)).path
            if form.method == "post" and (target.endswith(action_ends) if action_ends else target == path):
                return form
        raise JourneyFailed(f"{self.url} has no form posting to ...{action_ends or path} "
                            f"(forms: {[f.action for f in reader.forms]})")


class Browser:
    """One person's browser: its own cookies, the proxy's https header on every request."""

    def __init__(self, base_url, name):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.origin = f"https://{parts.netloc}"  # what the person's address bar shows
        self.name = name
        self.cookies = {}  # name -> value
        self.cookie_flags = {}  # name -> the Set-Cookie attributes last seen

    def request(self, method, url, body=None, headers=None):
        path = urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
        headers = {"X-Forwarded-Proto": "https", "User-Agent": f"portal-prod-smoke ({self.name})",
                   "Accept": "text/html,application/json", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            page = Page(self.origin + path, response.status, response.headers, response.read())
        finally:
            connection.close()
        for header in page.headers.get_all("Set-Cookie") or []:
            self._keep_cookie(header)
        return page

    def _keep_cookie(self, header):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            self.cookie_flags[name] = {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
                                       "samesite": morsel["samesite"]}
            gone = morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"])
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, url, expect=200):
        page = self.request("GET", url)
        if expect is not None:
            check(page.status == expect, f"GET {url} as {self.name}: {page.status}, expected {expect}\n"
                                         f"{page.visible_text()[:800]}")
        return page

    def submit(self, page, form, values=None, files=None, expect=302):
        """Send ``form`` as the browser would: its current fields, changed by ``values``, from ``page``."""
        values = values or {}
        fields = [(k, v) for k, v in form.fields if k not in values]
        for name, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                fields.append((name, item))
        headers = {"Referer": page.url, "Origin": self.origin}
        if form.multipart or files:
            boundary = uuid.uuid4().hex
            body = _multipart(boundary, fields, files or {})
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        target = urljoin(page.url, form.action)
        response = self.request("POST", target, body=body, headers=headers)
        if expect is not None:
            check(response.status == expect,
                  f"POST {urlsplit(target).path} as {self.name}: {response.status}, expected {expect}\n"
                  f"{_messages(response)}")
        return response

    def sign_in(self, email, password):
        page = self.get("/login")
        flags = self.cookie_flags.get("session")
        check(flags is not None, "the sign-in page set no session cookie (it holds the CSRF token)")
        check(flags["secure"] and flags["httponly"], f"the session cookie is not Secure and HttpOnly: {flags}")
        check("Strict-Transport-Security" in page.headers, "no Strict-Transport-Security header in production")
        response = self.submit(page, page.form(), {"email": email, "password": password})
        return response.location


def _multipart(boundary, fields, files):
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, mimetype) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: {mimetype}\r\n\r\n".encode() + content + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _messages(page):
    """What the page says went wrong (its error summary, else its field errors), or the start of its text."""
    def plain(fragment):
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()

    summary = re.findall(r'<li>(.*?)</li>', "".join(re.findall(
        r'govuk-error-summary__list">(.*?)</ul>', page.text, re.S)), re.S)
    fields = re.findall(r'class="govuk-error-message">(.*?)</p>', page.text, re.S)
    found = [plain(m).removeprefix("Error: ") for m in summary or fields]
    return "; ".join(found) or page.visible_text()[:800]


def option(form, field, label_contains=None):
    """The value of the first non-empty option of ``field`` whose label contains the text."""
    for value, label in form.options.get(field, []):
        if value and (label_contains is None or label_contains.lower() in label.lower()):
            return value, label
    raise JourneyFailed(f"no option like {label_contains!r} for {field}: {form.options.get(field)}")


def wait_until(what, timeout, probe, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise JourneyFailed(f"{what}: not within {timeout} s")
        time.sleep(interval)


# ---- the journey --------------------------------------------------------------------------------

def journey(args):
    run = args.run_id
    base = args.base_url

    # The open data API names the configured public address, never the request's Host header.
    anonymous = Browser(base, "resident")
    server = anonymous.get("/api/openapi.json").json()["servers"][0]["url"]
    check(server == os.environ["PUBLIC_BASE_URL"] == anonymous.origin,
          f"the API names {server}, not PUBLIC_BASE_URL {os.environ.get('PUBLIC_BASE_URL')}")
    step(f"the open data API names the public address {server} (PUBLIC_BASE_URL)")

    # An administrator (created with `flask users create`) signs in and adds an officer on the admin pages.
    admin = Browser(base, "admin")
    landing = admin.sign_in(args.admin_email, args.password)
    check("/login" not in landing, f"the admin was not signed in (sent to {landing})")
    step(f"admin {args.admin_email} signs in (Secure, HttpOnly session cookie; HSTS; lands on {landing})")

    officer_email, officer_password = f"officer-{run}@smoke.shropshire-csp.example.org", uuid.uuid4().hex
    page = admin.get("/admin/users/new")
    form = page.form()
    areas = [value for value, _ in form.options.get("areas", [])]
    check(areas, "the new-account form offers no areas")
    response = admin.submit(page, form, {"display_name": f"PC Smoke {run}", "email": officer_email,
                                         "role": "officer", "organisation": "", "areas": areas,
                                         "password": officer_password, "active": "y"})
    check(response.location.endswith("/admin/users"), f"saving the officer went to {response.location}")
    check(officer_email in admin.get("/admin/users").text, "the new officer is not in the list of accounts")
    step(f"admin creates officer {officer_email} covering {len(areas)} areas on /admin/users/new")

    # The officer logs a concern, moves it to responded with a "We did" and publishes it.
    officer = Browser(base, "officer")
    landing = officer.sign_in(officer_email, officer_password)
    check("/concerns/" in landing, f"the officer landed on {landing}, not the concerns register")
    step(f"officer signs in and lands on {landing}")

    you_said = f"Smoke test {run}: litter and graffiti by the bus shelter"
    private = f"private-note-{run}"
    page = officer.get("/concerns/new")
    form = page.form()
    category, category_name = option(form, "category", "graffiti")
    locality, locality_name = option(form, "locality", "Wem")
    response = officer.submit(page, form, {"source": "resident_contact", "raised_on": date.today().isoformat(),
                                           "category": category, "locality": locality, "you_said": you_said,
                                           "raised_count": "2", "internal_notes": private,
                                           "street": f"{private} street"})
    match = re.search(r"/concerns/(\d+)$", response.location)
    check(match, f"logging the concern went to {response.location}")
    concern_id = int(match.group(1))
    concern_url = f"/concerns/{concern_id}"
    step(f"officer logs concern {concern_id} ({category_name}, {locality_name})")

    check(anonymous.get(f"/api/concerns/{concern_id}.json", expect=None).status == 404,
          "an unpublished concern is visible on the public API")

    we_did = f"Council cleansing removed it within a week ({run})"
    for status, extra in (("accepted", {}), ("responded", {"we_did": we_did})):
        page = officer.get(concern_url)  # a fresh form: its hidden version is the concern's latest
        response = officer.submit(page, page.form("/status"), {"status": status, **extra})
        check(response.location.endswith(concern_url), f"changing the status went to {response.location}")
    page = officer.get(concern_url)
    check("Responded" in page.visible_text() and we_did in page.visible_text(), "the concern page lacks its response")
    step("officer moves it new -> accepted -> responded with a 'We did'")
    response = officer.submit(page, page.form("/publish"))
    check(response.location.endswith(concern_url), f"publishing went to {response.location}")
    step("officer publishes it")

    # Anyone, signed out, sees it on the public list, the map's data and the open data API, within the
    # public cache time (PUBLIC_CACHE_SECONDS: the shared data version is looked up that often).
    def published():
        response = anonymous.get(f"/api/concerns/{concern_id}.json", expect=None)
        return response.json() if response.status == 200 else None

    record = wait_until("the concern on the public API", 20, published)
    check(record["you_said"] == you_said and record["we_did"] == we_did,
          f"the public record is not what was published: {record}")
    geojson = anonymous.get("/api/concerns.geojson").json()
    check(any(f["id"] == concern_id for f in geojson["features"]), "the concern is not in concerns.geojson")
    listing = anonymous.get("/you-said-we-did")
    check(you_said in listing.visible_text(), "the concern is not on the public 'You said, we did' list")

    def on_map():
        points = anonymous.get("/api/map-points.json").json()["points"]
        return any(item[0] == concern_id for _, _, items in points for item in items)

    wait_until("the concern on the public map's data", 20, on_map)
    for text in (geojson, record, listing.text, anonymous.get("/api/concerns.csv").text):
        check(private not in json.dumps(text), "an internal note reached a public page")
    step(f"the public API, map data and list show it (status {record['status_label']!r}); "
         "internal notes stay private")

    # An analyst uploads a police.uk file; the worker imports it while the page polls its progress.
    crime_file = Path(args.crime_file)
    with open(crime_file, newline="", encoding="utf-8") as source:
        expected_rows = sum(1 for _ in csv.reader(source)) - 1
    analyst = Browser(base, "analyst")
    landing = analyst.sign_in(args.analyst_email, args.password)
    check("/login" not in landing, f"the analyst was not signed in (sent to {landing})")
    step(f"analyst {args.analyst_email} signs in")
    page = analyst.get("/crime/imports")
    started = time.monotonic()
    response = analyst.submit(page, page.form(), files={"file": (crime_file.name, crime_file.read_bytes(),
                                                                 "text/csv")})
    match = re.search(r"/crime/imports/(\d+)$", response.location)
    check(match, f"the upload went to {response.location}")
    upload_id = int(match.group(1))
    analyst.get(f"/crime/imports/{upload_id}")
    step(f"analyst uploads {crime_file.name} ({expected_rows:,} rows) as upload {upload_id}")

    seen = []

    def finished():
        status = analyst.get(f"/crime/imports/{upload_id}.json").json()
        mark = f"{status['state']} {status.get('percent', 0)}%"
        if not seen or seen[-1] != mark:
            seen.append(mark)
        return status if status["state"] in ("done", "failed") else None

    status = wait_until("the import to finish", args.import_timeout, finished)
    check(status["state"] == "done", f"the import failed: {status.get('errors')}")
    check(status["rows"] == expected_rows and not status["errors"],
          f"the import read {status['rows']} rows (expected {expected_rows}), errors {status['errors']}")
    step(f"the worker imported it in {time.monotonic() - started:.1f} s: {status['rows']:,} rows, "
         f"{status['rows'] - status['unmatched']:,} in Shropshire (progress JSON: {' -> '.join(seen)})")
    imports = analyst.get("/crime/imports").visible_text()
    check(crime_file.name in imports, "the imports page does not list the file")

    # Signing out ends the session: the admin pages send the browser back to the sign-in page.
    page = admin.get("/admin/users")
    response = admin.submit(page, page.form("/logout"))
    check(response.location.endswith("/login"), f"signing out went to {response.location}")
    check("/login" in admin.get("/admin/users", expect=302).location, "the admin pages answer after signing out")
    step("admin signs out; the admin pages then ask to sign in")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="where gunicorn listens, e.g. http://127.0.0.1:8000")
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--analyst-email", required=True)
    parser.add_argument("--crime-file", required=True)
    parser.add_argument("--run-id", default=uuid.uuid4().hex[:8])
    parser.add_argument("--import-timeout", type=float, default=90)
    args = parser.parse_args()
    args.password = os.environ.get("PORTAL_NEW_PASSWORD")  # what `flask users create` gave both accounts
    if not args.password:
        parser.error("set PORTAL_NEW_PASSWORD to the password the accounts were created with")
    try:
        return journey(args)
    except (JourneyFailed, OSError, http.client.HTTPException, ValueError, KeyError) as error:
        print(f"{elapsed()} FAILED: {type(error).__name__}: {error}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
