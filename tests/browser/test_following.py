"""A resident on a small phone follows a place, confirms from the emailed link, gets a digest and leaves by
its unsubscribe link: in Debian's Chromium, by keyboard where a form is filled, axe-core on every page."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.following import digest
from portal.following.models import Follower
from portal.models import utcnow
from portal.notifications.models import OutboxMessage

from ..following.test_following import meeting_in, published_in
from .conftest import serious_violations, shot, with_axe

pytestmark = pytest.mark.browser
EMAIL = "pat.resident@example.org"
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    context.route("https://*/**", lambda route: route.abort())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield with_axe(page)
    context.close()


def message(kind):
    db.session.expire_all()
    return db.session.execute(select(OutboxMessage).filter_by(kind=kind, to_email=EMAIL)
                              .order_by(OutboxMessage.id.desc())).scalars().first()


def checked(page, name):
    assert serious_violations(page) == [], name
    assert page.evaluate(FITS), f"{name} scrolls sideways at 320 px"
    shot(page, f"following-{name}")


def test_a_resident_follows_a_place_confirms_from_the_email_and_unsubscribes_on_a_phone(
        app, live_server, phone):
    app.config["PORTAL_URL"] = live_server  # the address the resident's email app opens
    meeting_in("wem", date.today() + timedelta(days=9), "Wem Town Hall, High Street (the upstairs room)")
    phone.goto(f"{live_server}/places/north/pact-meetings")
    assert "Wem Town Hall, High Street (the upstairs room)" in phone.inner_text("main")
    checked(phone, "meetings")
    phone.goto(f"{live_server}/places/wem")
    checked(phone, "locality")
    phone.click("text=Get updates for this place")
    phone.wait_for_url("**/places/wem/follow")
    checked(phone, "form")

    phone.focus("#email")
    phone.keyboard.type("pat.resident@")
    phone.keyboard.press("Enter")  # submitted from the keyboard, with a mistake
    summary = phone.locator(".govuk-error-summary a[href='#email']")
    assert summary.inner_text() == "Enter an email address in the correct format, like name@example.org"
    checked(phone, "form-error")
    summary.click()
    assert phone.evaluate("() => document.activeElement.id") == "email"
    phone.fill("#email", EMAIL)
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/check-your-email")
    assert "Check your email" in phone.inner_text("main")
    checked(phone, "check-email")

    confirm = message("follow-confirm")
    link = next(word for word in confirm.body.split() if word.startswith(f"{live_server}/follow/confirm/"))
    phone.goto(link)
    assert "Confirm updates for Wem" in phone.inner_text("main")
    checked(phone, "confirm")
    phone.click("button:has-text('Start updates')")
    phone.wait_for_selector(".govuk-panel")
    assert "You will get updates for Wem" in phone.inner_text("main")
    checked(phone, "confirmed")

    concern = published_in("wem", "Cars parked on the zebra crossing", "Wardens ticketed them on three mornings")
    assert digest.send_digests(utcnow()) == 1
    db.session.commit()
    sent = message("follow-digest")
    item = next(word for word in sent.body.split() if word.endswith(f"#concern-{concern.id}"))
    phone.goto(item)
    assert "Wardens ticketed them on three mornings" in phone.inner_text(f"#concern-{concern.id}")

    phone.goto(sent.unsubscribe_url)
    checked(phone, "unsubscribe")
    phone.focus("button:has-text('Stop updates')")
    phone.keyboard.press("Enter")
    phone.wait_for_selector(".govuk-panel")
    assert "You will get no more updates" in phone.inner_text("main")
    checked(phone, "unsubscribed")
    db.session.expire_all()
    assert db.session.execute(select(Follower).filter_by(email=EMAIL)).first() is None
    assert phone.errors == []
