"""Every route states who may use it, and everyone else is kept out.

The walk covers every URL rule the app has, so a new route without an
``@allow`` (or with the wrong one) fails here.
"""
import pytest

from portal.access import PUBLIC, ROLES, SIGNED_IN, rule_for

from .conftest import Browser, DEMO_EMAILS

SAMPLE_ARGS = {"int": 1, "string": "north", "default": "north", "path": "north"}


def sample_url(app, rule):
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        kind = {v: k for k, v in app.url_map.converters.items()}.get(type(converter), "default")
        values[name] = SAMPLE_ARGS.get(kind, 1)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def routes(app):
    # Signing out last, so the walk stays signed in for everything else.
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "people.logout"):
        if rule.endpoint == "static":
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, method


def test_every_route_declares_who_may_use_it(app):
    missing = [rule.rule for rule, _ in routes(app) if rule_for(rule.endpoint) is None]
    assert missing == [], f"routes without @allow: {missing}"


@pytest.mark.parametrize("who", ("anonymous",) + ROLES)
def test_routes_refuse_everyone_not_allowed(app, who):
    person = Browser(app) if who == "anonymous" else Browser(app).sign_in(DEMO_EMAILS[who])
    wrong = []
    for rule, method in routes(app):
        allowed = rule_for(rule.endpoint)
        permitted = PUBLIC in allowed or (who != "anonymous" and (SIGNED_IN in allowed or who in allowed))
        url = sample_url(app, rule)
        response = person.get(url) if method == "GET" else person.post(url, {})
        sent_to_login = response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")
        if permitted:
            role_refused = response.status_code == 403 and response.headers.get("X-Access-Refused") != "record"
            if role_refused or sent_to_login:
                wrong.append(f"{method} {url}: {who} was refused ({response.status_code})")
        elif who == "anonymous":
            if not sent_to_login:
                wrong.append(f"{method} {url}: anonymous got {response.status_code}, not the sign-in page")
        elif response.status_code != 403 or response.headers.get("X-Access-Refused") != "role":
            wrong.append(f"{method} {url}: {who} got {response.status_code}, not 403")
    assert wrong == []


def test_a_form_posted_without_its_csrf_token_is_refused(app):
    person = Browser(app)
    response = person.post("/login", {"email": DEMO_EMAILS["admin"], "password": "x"}, csrf=False)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_pages_send_security_headers(browser):
    response = browser.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
