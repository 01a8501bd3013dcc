"""Sign-in tells nobody who has an account, says when to try again, and passwords are not guessable."""
import statistics
import time

from sqlalchemy import select

from portal.extensions import db
from portal.people.models import User

from ..conftest import DEMO_EMAILS, Browser, text_of


def timed_sign_in(browser, email):
    start = time.perf_counter()
    response = browser.post("/login", {"email": email, "password": "not-the-password"})
    assert response.status_code == 400
    return time.perf_counter() - start


def test_an_unknown_email_takes_as_long_as_a_wrong_password(browser):
    browser.csrf_token()
    known = statistics.median(timed_sign_in(browser, DEMO_EMAILS["officer"]) for _ in range(5))
    unknown = statistics.median(timed_sign_in(browser, "nobody@example.org") for _ in range(5))
    # Both check a scrypt hash; without the dummy hash the unknown email answered many times faster.
    assert unknown > 0.6 * known, (unknown, known)


def test_too_many_sign_ins_say_when_to_try_again(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    person = Browser(app)
    responses = [person.post("/login", {"email": DEMO_EMAILS["admin"], "password": "wrong-password"})
                 for _ in range(3)]
    assert [r.status_code for r in responses] == [400, 400, 429]
    assert 0 < int(responses[-1].headers["Retry-After"]) <= 60


def test_common_and_overlong_passwords_are_refused_where_passwords_are_set(app, as_role):
    admin = as_role("admin")
    new_user = {"display_name": "Pat Example", "email": "pat@example.org", "role": "analyst", "organisation": "",
                "active": "y"}
    for password, message in (("password1234", "This password is on a list of commonly used passwords"),
                              ("QWERTY123456", "This password is on a list of commonly used passwords"),
                              ("x" * 129, "Password must be at most 128 characters")):
        response = admin.post("/admin/users/new", new_user | {"password": password})
        assert response.status_code == 400 and message in text_of(response)
    assert db.session.execute(select(User).filter_by(email="pat@example.org")).scalar_one_or_none() is None
    officer = as_role("officer")
    from seed.loaders import DEMO_PASSWORD

    response = officer.post("/account/password", {"current_password": DEMO_PASSWORD,
                                                  "new_password": "qwerty123456"})
    assert "This password is on a list of commonly used passwords" in text_of(response)
    assert Browser(app).sign_in(DEMO_EMAILS["officer"])  # the old password still works
