"""Residents follow a place: double opt-in, one-click unsubscribe, rate limits, nothing that tells whether an
address is signed up, and a daily digest told from the public record only."""
import re
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from portal.concerns import corrections
from portal.concerns import services as concerns
from portal.concerns.models import ConcernCategory, PactMeeting
from portal.extensions import db
from portal.following import digest, services
from portal.following.models import Follower
from portal.models import utcnow
from portal.notifications.models import OutboxMessage
from portal.places.models import Locality

from ..conftest import Browser, text_of
from ..factories import one, user

MARK = "ZQX7731"  # in every private field: never in a digest, a feed or a calendar


def outbox(kind, to=None):
    db.session.expire_all()
    query = select(OutboxMessage).filter_by(kind=kind).order_by(OutboxMessage.id)
    if to:
        query = query.filter_by(to_email=to)
    return db.session.execute(query).scalars().all()


def link_in(message, endpoint_path):
    """The path of the link in a message that starts with ``endpoint_path`` (links are absolute)."""
    url = re.search(r"https?://\S+" + re.escape(endpoint_path) + r"\S+", message.body).group(0)
    return urlsplit(url).path


def follower(email):
    db.session.expire_all()
    return db.session.execute(select(Follower).filter_by(email=email)).scalar_one_or_none()


def sign_up(resident, email, key="wem"):
    resident.get(f"/places/{key}/follow")
    return resident.post(f"/places/{key}/follow", {"email": email})


def confirmed_follower(email, key="wem", days_ago=2):
    """A follower who confirmed ``days_ago`` days ago, through the services."""
    services.request_follow(email, one(Locality, key=key))
    person = db.session.execute(select(Follower).filter_by(email=email)).scalar_one()
    services.confirm(services.confirmation_token(person, one(Locality, key=key)))
    person.confirmed_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return person


# ---- the opt-in and the way out ----------------------------------------------------------------

def test_a_resident_confirms_by_the_emailed_link_and_confirming_twice_changes_nothing(app, browser):
    response = sign_up(browser, "Resident@Example.org")
    assert response.status_code == 302 and response.headers["Location"].endswith("/places/wem/follow/check-your-email")
    assert "Check your email" in text_of(browser.get(response.headers["Location"]))
    person = follower("resident@example.org")
    assert person is not None and person.confirmed_at is None and person.places == []
    [message] = outbox("follow-confirm", "resident@example.org")
    assert message.subject == "Confirm updates for Wem" and "resident@example.org" not in message.body
    path = link_in(message, "/follow/confirm/")

    page = browser.get(path)  # opening the link (or a mail scanner fetching it) changes nothing
    assert page.status_code == 200 and "Confirm updates for Wem" in text_of(page)
    assert follower("resident@example.org").confirmed_at is None
    for _ in range(2):
        done = browser.post(path)
        assert done.status_code == 200 and "You will get updates for Wem" in text_of(done)
    person = follower("resident@example.org")
    assert person.confirmed_at is not None and [p.key for p in person.places] == ["wem"]


def test_a_confirmation_link_expires_and_then_changes_nothing(app, browser):
    sign_up(browser, "late@example.org")
    person = follower("late@example.org")

    class FourDaysAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 4 * 24 * 3600

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=services.CONFIRM_SALT, signer=FourDaysAgo).dumps(
        [person.id, services.email_digest(person.email), one(Locality, key="wem").id])
    for response in (browser.get(f"/follow/confirm/{old}"), browser.post(f"/follow/confirm/{old}")):
        assert response.status_code == 400
        assert "This link has expired: links to confirm updates work for 72 hours" in text_of(response)
    assert follower("late@example.org").confirmed_at is None
    broken = browser.get(f"/follow/confirm/{old[:-3]}")
    assert broken.status_code == 400 and "This link is not complete" in text_of(broken)
    # Forgotten once its newest link has expired: nothing is kept for an address that never answered.
    person.created_at = utcnow() - timedelta(hours=100)
    db.session.commit()
    sign_up(browser, "late@example.org")  # asked again: the new link works for 72 hours
    assert services.forget_unconfirmed() == 0 and follower("late@example.org") is not None
    assert services.forget_unconfirmed(utcnow() + timedelta(hours=73)) == 1
    db.session.commit()
    assert follower("late@example.org") is None


def test_unsubscribe_works_by_one_click_post_and_by_the_pages_button_and_twice_is_harmless(app, browser):
    first, second = confirmed_follower("one@example.org"), confirmed_follower("two@example.org")
    one_click, button = (urlsplit(services.unsubscribe_link(p)).path for p in (first, second))

    page = browser.get(one_click)
    assert page.status_code == 200 and "Stop updates" in text_of(page) and follower("one@example.org")
    for _ in range(2):  # RFC 8058: the mail app posts this body, with no cookie and no CSRF token
        response = browser.post(one_click, {"List-Unsubscribe": "One-Click"}, csrf=False)
        assert response.status_code == 200 and "You will get no more updates" in text_of(response)
    assert follower("one@example.org") is None
    assert browser.post(button, {}, csrf=False).status_code == 400  # the page's own form needs its token
    assert follower("two@example.org") is not None
    browser.get(button)
    assert browser.post(button).status_code == 200
    assert follower("two@example.org") is None
    assert db.session.execute(select(db.metadata.tables["followed_places"])).all() == []


def test_an_unsubscribe_link_of_an_id_now_used_by_another_address_does_nothing(app, browser):
    person = confirmed_follower("kept@example.org")
    forged = URLSafeSerializer(app.config["SECRET_KEY"], salt=services.UNSUBSCRIBE_SALT).dumps(
        [person.id, services.email_digest("someone-else@example.org")])
    response = browser.post(f"/follow/unsubscribe/{forged}", {"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200
    assert follower("kept@example.org") is not None
    assert browser.get("/follow/unsubscribe/not-a-token").status_code == 400


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(app):
    confirmed_follower("known@example.org")
    db.session.execute(OutboxMessage.__table__.delete())  # its first link
    db.session.commit()
    answers = []
    for email in ("known@example.org", "unknown@example.org"):
        resident = Browser(app)
        response = sign_up(resident, email)
        page = resident.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], page.status_code, text_of(page)))
    assert answers[0] == answers[1]
    # Each address got its link: the owner of a known one may add a place, a stranger learns nothing.
    assert [len(outbox("follow-confirm", e)) for e in ("known@example.org", "unknown@example.org")] == [1, 1]


@pytest.mark.parametrize("typed, message", [
    ("", "Enter your email address"),
    ("not-an-address", "Enter an email address in the correct format, like name@example.org"),
    ("someone@", "Enter an email address in the correct format, like name@example.org"),
    ("a" * 250 + "@example.org", "An email address has at most 254 characters"),
])
def test_a_malformed_address_is_refused_with_a_message_linked_to_the_field(app, browser, typed, message):
    response = sign_up(browser, typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<a href="#email">{message}</a>' in html and db.session.execute(select(Follower)).first() is None
    assert outbox("follow-confirm") == []


def test_an_unknown_place_cannot_be_followed(browser):
    assert browser.get("/places/atlantis/follow").status_code == 404
    assert browser.post("/places/atlantis/follow", {"email": "a@example.org"}).status_code == 404


def test_sign_ups_are_limited_per_email_and_per_address(make_app):
    per_email = Browser(make_app(RATELIMIT_ENABLED=True, FOLLOW_EMAIL_RATE_LIMIT="2 per minute",
                                 FOLLOW_RATE_LIMIT="50 per minute"))
    codes = [sign_up(per_email, "same@example.org", key).status_code for key in ("wem", "ludlow", "north")]
    assert codes == [302, 302, 429]
    assert sign_up(per_email, "other@example.org").status_code == 302  # another address still may

    per_address = Browser(make_app(RATELIMIT_ENABLED=True, FOLLOW_RATE_LIMIT="3 per minute",
                                   FOLLOW_EMAIL_RATE_LIMIT="50 per minute"))
    codes = [sign_up(per_address, f"n{n}@example.org").status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]
    response = sign_up(per_address, "n9@example.org")
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60


# ---- the digest ------------------------------------------------------------------------------------

def published_in(key, said, we_did, *, internal=f"Caller {MARK} at 4 Mill Lane"):
    """A concern of ``key`` answered and published now by the admin, through the services. Commits."""
    admin = user("admin")
    category = db.session.execute(select(ConcernCategory).limit(1)).scalar_one()
    item = concerns.ConcernInput(category_id=category.id, you_said=said, internal_notes=internal,
                                 street=f"{MARK} Street", locality_id=one(Locality, key=key).id)
    raised = date.today() - timedelta(days=5)
    concern = concerns.log_concern(item, by=admin, source="resident_contact", raised_on=raised)
    concerns.change_status(concern, "responded", by=admin, we_did=we_did, reason=f"Internal {MARK}")
    concerns.publish(concern, by=admin)
    db.session.commit()
    return concern


def meeting_in(key, on, venue):
    meeting = PactMeeting(locality=one(Locality, key=key), held_on=date.today() - timedelta(days=1),
                          venue=f"Held at {MARK}", notes=f"Notes {MARK}", attendance=12,
                          next_meeting_on=on, next_meeting_venue=venue)
    db.session.add(meeting)
    db.session.commit()
    return meeting


@pytest.mark.both_databases
def test_one_digest_a_day_from_the_public_record_only_and_a_second_run_sends_nothing(app, backend):
    app.config["PORTAL_URL"] = "https://safety.shropshire.example"
    north, wem_only, quiet = (confirmed_follower(e, k, days_ago=0) for e, k in (("north@example.org", "north"),
                                                                      ("wem@example.org", "wem"),
                                                                      ("quiet@example.org", "ludlow")))
    answered = published_in("wem", "Speeding on Noble Street", "Speed checks every week at school times")
    unpublished = published_in("wem", "Not for residents yet", f"Private answer {MARK}")
    corrections.withdraw(unpublished, by=user("admin"), reason="Answered too early")
    db.session.commit()
    meeting_in("wem", date.today() + timedelta(days=20), "Wem Town Hall, High Street")
    now = utcnow()

    assert digest.send_digests(now) == 2
    db.session.commit()
    assert digest.send_digests(now) == 0 and digest.send_digests(now + timedelta(hours=3)) == 0
    db.session.commit()
    sent = outbox("follow-digest")
    assert sorted(m.to_email for m in sent) == ["north@example.org", "wem@example.org"]  # Ludlow had no news
    for message in sent:
        assert MARK not in message.body and "Not for residents yet" not in message.body
        assert "Speed checks every week at school times" in message.body
        assert "Wem Town Hall, High Street" in message.body
        assert f"https://safety.shropshire.example/places/wem#concern-{answered.id}" in message.body
        assert message.unsubscribe_url.startswith("https://safety.shropshire.example/follow/unsubscribe/")
        assert message.unsubscribe_url in message.body
    # The window moved on: tomorrow's run tells only what is new since.
    later = published_in("wem", "Parking on the pavement", "Wardens visited twice a week")
    assert digest.send_digests(now + timedelta(days=1)) == 2
    db.session.commit()
    tomorrow = outbox("follow-digest", "wem@example.org")[-1]
    assert "Wardens visited twice a week" in tomorrow.body and "Speed checks every week" not in tomorrow.body
    assert f"#concern-{later.id}" in tomorrow.body
    assert quiet.last_digest_at is None and north.last_digest_at is not None and wem_only.places[0].key == "wem"


def test_the_digests_we_did_links_land_on_the_item_on_the_locality_page(app, browser):
    from portal.following.updates import item_link
    from portal.public.services import public_record

    concern = published_in("wem", "Litter by the bus stop", "Extra bins were fitted")
    page = browser.get("/places/wem").get_data(as_text=True)
    assert f'id="concern-{concern.id}"' in page
    assert 'href="/places/wem/follow"' in page and "Get updates for this place" in page
    assert item_link(public_record(concern)) == f"http://127.0.0.1:5000/places/wem#concern-{concern.id}"
    # Answered long after it was raised, under twenty newer ones: the link opens the list's second page.
    concern.raised_on = date.today() - timedelta(days=400)
    db.session.commit()
    for n in range(20):
        published_in("wem", f"Newer concern {n}", "Dealt with")
    link = item_link(public_record(concern))
    assert link == f"http://127.0.0.1:5000/places/wem?page=2#concern-{concern.id}"
    assert f'id="concern-{concern.id}"' in browser.get(urlsplit(link).path + "?page=2").get_data(as_text=True)


def test_the_daily_digest_job_is_on_the_beat_schedule_and_runs_as_a_task(app):
    from tasks.schedule import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["daily-follower-digest"]
    celery = app.extensions["celery"]
    assert entry["task"] == "following.send_digests" and entry["task"] in celery.tasks
    confirmed_follower("eager@example.org", days_ago=0)
    published_in("wem", "Noise from the car park", "Patrols on Friday nights")
    later = (utcnow() + timedelta(seconds=1)).isoformat()
    assert [celery.tasks[entry["task"]].delay(later).get() for _ in range(2)] == [1, 0]


@pytest.mark.both_databases
def test_a_we_did_between_two_runs_on_one_day_is_in_the_second_digest_never_lost(app, backend):
    from datetime import datetime
    from datetime import time as clock

    from portal.concerns.models import ConcernEvent

    confirmed_follower("same-day@example.org", "wem", days_ago=1)
    published_in("wem", "Bins left out all week", "Collections moved to Monday")
    day = date.today() + timedelta(days=1)
    assert digest.send_digests(datetime.combine(day, clock(0, 10))) == 1
    db.session.commit()
    later = published_in("wem", "Cars on the green", "Bollards were put in")
    db.session.execute(ConcernEvent.__table__.update().where(ConcernEvent.concern_id == later.id)
                       .values(at=datetime.combine(day, clock(5, 10))))
    db.session.commit()

    assert digest.send_digests(datetime.combine(day, clock(23, 50))) == 1  # 23 h 40 min later, the same date
    db.session.commit()
    first, second = outbox("follow-digest", "same-day@example.org")
    assert "Collections moved to Monday" in first.body and "Bollards were put in" not in first.body
    assert "Bollards were put in" in second.body and "Collections moved to Monday" not in second.body
    assert follower("same-day@example.org").last_digest_at == datetime.combine(day, clock(23, 50))
    assert digest.send_digests(datetime.combine(day + timedelta(days=1), clock(23, 50))) == 0


@pytest.mark.both_databases
def test_a_follower_of_an_area_and_a_place_in_it_reads_each_item_once_under_the_smaller_place(app, backend):
    person = confirmed_follower("both@example.org", "north", days_ago=1)
    services.confirm(services.confirmation_token(person, one(Locality, key="wem")))
    db.session.commit()
    assert [p.key for p in follower("both@example.org").places] == ["north", "wem"]
    in_wem = published_in("wem", "Graffiti on the underpass", "Painted over within a week")
    in_oswestry = published_in("oswestry", "Dogs off the lead in the park", "Wardens patrolled at dusk")
    meeting_in("wem", date.today() + timedelta(days=12), "Wem Civic Centre")

    assert digest.send_digests(utcnow()) == 1
    db.session.commit()
    [message] = outbox("follow-digest", "both@example.org")
    assert message.subject == "Community safety updates: North, Wem"
    for text in ("Painted over within a week", f"#concern-{in_wem.id}", "Wem Civic Centre",
                 "Wardens patrolled at dusk", f"#concern-{in_oswestry.id}"):
        assert message.body.count(text) == 1, text
    north, wem = message.body.split("\nNorth\n=====\n")[1].split("\nWem\n===\n")
    assert "Wardens patrolled at dusk" in north and "Painted over within a week" not in north
    assert "Painted over within a week" in wem and "Wem Civic Centre" in wem and "Wem Civic Centre" not in north


def test_links_and_rate_limit_keys_carry_a_keyed_digest_of_the_address_never_its_plain_hash(app, monkeypatch):
    import hashlib
    import json

    from portal.following.views import email_key

    email = "keyed@example.org"
    plain = hashlib.sha256(email.encode()).hexdigest()
    person = confirmed_follower(email)
    confirm_token = services.confirmation_token(person, one(Locality, key="wem"))
    unsubscribe_token = services.unsubscribe_token(person)
    payloads = [services._timed().loads(confirm_token), services._untimed().loads(unsubscribe_token)]
    [message] = outbox("follow-confirm", email)
    for text in (confirm_token, unsubscribe_token, services.unsubscribe_link(person), message.body,
                 json.dumps(payloads)):
        assert plain[:24] not in text and email not in text
    with app.test_request_context("/places/wem/follow", method="POST", data={"email": email}):
        assert email_key() == "follow-email:" + services.email_digest(email) and plain[:24] not in email_key()

    ours = services.email_digest(email)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another deployment's secret")
    assert services.email_digest(email) != ours and len(services.email_digest(email)) == len(ours)
    monkeypatch.undo()
    assert services.email_digest(email) == ours
    # A link sent before digests were keyed still stops the emails.
    legacy = URLSafeSerializer(app.config["SECRET_KEY"], salt=services.UNSUBSCRIBE_SALT).dumps(
        [person.id, plain[:24]])
    services.unsubscribe(legacy)
    db.session.commit()
    assert follower(email) is None


@pytest.mark.both_databases
def test_after_unsubscribing_nothing_waiting_in_the_outbox_goes_to_the_address(app, backend):
    from portal.notifications.services import notify_address

    person = confirmed_follower("stop@example.org", days_ago=1)
    confirmed_follower("stays@example.org", days_ago=1)
    published_in("wem", "Broken street light", "The council replaced it")
    assert digest.send_digests(utcnow()) == 2
    sent = outbox("follow-confirm", "stop@example.org")[0]
    sent.sent_at = utcnow()
    notify_address("stop@example.org", "Your report", "What was done", kind="concern_outcome",
                   dedupe_key="outcome:stop-test")
    db.session.commit()
    assert [m.sent_at for m in outbox("follow-digest", "stop@example.org")] == [None]

    services.unsubscribe(services.unsubscribe_token(person))
    db.session.commit()
    assert outbox("follow-digest", "stop@example.org") == []
    assert [m.id for m in outbox("follow-confirm", "stop@example.org")] == [sent.id]  # sent: its record stays
    assert len(outbox("concern_outcome", "stop@example.org")) == 1  # about the resident's own report
    assert len(outbox("follow-digest", "stays@example.org")) == 1
