"""Residents raise a concern online: it reaches the area's register and next Bronze agenda, stays private until
published, and its reporter is told the outcome by email; bad or abusive submissions save nothing."""
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.concerns import services as concerns
from portal.concerns.models import Concern, ConcernCategory
from portal.errors import PortalError
from portal.extensions import db
from portal.following import updates
from portal.notifications.models import OutboxMessage
from portal.places.models import Locality
from portal.public import services as public
from portal.reporting.models import OnlineReport
from portal.tasking import meetings, tasks

from ..conftest import Browser, text_of
from ..factories import YOUTHS, completed, new_meeting, new_task, one, user

GRAFFITI = "ENVIRONMENTAL - GRAFFITI"
EMAIL = "resident.online@example.org"


def form(what=YOUTHS, said="Youths on the bandstand every evening, shouting", **fields):
    return {"category": str(one(ConcernCategory, name=what).id), "you_said": said} | fields


def raise_online(browser, **fields):
    """A resident sends the form as a browser does: the page first (its CSRF token), then the post."""
    assert browser.get("/raise-a-concern/").status_code == 200
    return browser.post("/raise-a-concern/", form(**fields))


def counts():
    return (db.session.execute(select(func.count()).select_from(Concern)).scalar_one(),
            db.session.execute(select(func.count()).select_from(OnlineReport)).scalar_one())


def newest():
    return db.session.execute(select(Concern).order_by(Concern.id.desc()).limit(1)).scalar_one()


@pytest.mark.both_databases
def test_a_resident_raises_a_concern_that_reaches_the_register_and_the_next_agenda_but_not_the_public(
        app, backend, browser, as_role):
    response = raise_online(browser, place="Wem", email=EMAIL)
    assert response.status_code == 302 and response.headers["Location"].endswith("/raise-a-concern/thank-you")
    concern = newest()
    assert (concern.status, concern.source, concern.source_label) == ("new", "resident_online", "Resident online")
    assert concern.locality.name == "Wem" and concern.locality.area.key == "north"
    assert not concern.published and concern.created_by_id is None
    assert f"Your reference number {concern.id}" in text_of(browser.get("/raise-a-concern/thank-you"))

    officer = as_role("officer")  # North, where Wem is
    register = text_of(officer.get("/concerns/?source=resident_online"))
    assert "Youths on the bandstand every evening" in register
    page = officer.get(f"/concerns/{concern.id}")
    assert "Resident online" in text_of(page) and EMAIL not in page.get_data(as_text=True)

    meeting = new_meeting("north")
    assert concern.id in [item.concern_id for item in meeting.items]
    assert browser.get(f"/api/concerns/{concern.id}.json").status_code == 404
    assert "bandstand" not in browser.get("/you-said-we-did?q=Wem").get_data(as_text=True)
    assert "bandstand" not in browser.get("/api/concerns.csv").get_data(as_text=True)


def test_a_point_on_the_map_chooses_the_ward_and_is_kept_as_the_private_exact_point(app, browser):
    ward = one(Locality, key="e05008166")  # Ludlow East
    assert raise_online(browser, lat=str(ward.centre_lat), lon=str(ward.centre_lon)).status_code == 302
    concern = newest()
    assert concern.locality_id == ward.id and (concern.lat, concern.lon) == (ward.centre_lat, ward.centre_lon)

    before = counts()
    response = raise_online(browser, lat="52.9", lon="-2.25")  # inside the box, outside every ward
    assert response.status_code == 400 and counts() == before
    assert "That point is outside Shropshire's wards" in text_of(response)
    assert 'href="#lat"' in response.get_data(as_text=True)


def test_a_place_name_matching_several_places_asks_which_without_javascript(app, browser):
    before = counts()
    response = raise_online(browser, place="Castle")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and counts() == before
    assert "More than one place matches “Castle”: choose one" in text_of(response)
    keys = re.findall(r'name="place_key" type="radio" value="([^"]+)"', page)
    assert len(keys) >= 2 and 'href="#place_key"' in page
    assert raise_online(browser, place="Castle", place_key=keys[0]).status_code == 302
    assert newest().locality.key == keys[0]
    many = raise_online(browser, place="e")
    assert many.status_code == 400 and "type more of the name" in text_of(many)
    assert len(re.findall(r'name="place_key" type="radio"', many.get_data(as_text=True))) == 12


@pytest.mark.parametrize("fields, field, message", [
    ({"website": "http://spam.example"}, "website", "Leave the field “Leave this empty” empty"),
    ({"you_said": "x" * 1001}, "you_said", "Describe it in 1,000 characters or fewer"),
    ({"you_said": "   "}, "you_said", "Describe what is happening"),
    ({"category": "999999"}, "category", "Choose what is happening from the list"),
    ({"category": "graffiti"}, "category", "Choose what is happening from the list"),
    ({"category": "²"}, "category", "Choose what is happening from the list"),
    ({"place": "Atlantis"}, "place", "No town, village or ward in Shropshire matches “Atlantis”"),
    ({"place": ""}, "place", "Enter the town, village or ward where it is happening"),
    ({"place_key": "north"}, "place_key", "Choose one of the places listed"),
    ({"lat": "52.5"}, "lat", "it needs both a latitude and a longitude"),
    ({"lat": "51.5", "lon": "-0.1"}, "lat", "Latitude must be in Shropshire"),
    ({"email": "not-an-address"}, "email", "Enter an email address in the correct format"),
])
def test_each_bad_field_gets_a_clear_message_linked_from_the_summary_and_saves_nothing(
        app, browser, fields, field, message):
    before = counts()
    assert browser.get("/raise-a-concern/").status_code == 200
    response = browser.post("/raise-a-concern/", form(place="Wem") | fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and counts() == before
    assert "There is a problem" in html and message in text_of(response)
    assert f'href="#{field}"' in html


def test_every_bad_field_is_named_at_once_the_place_too(app, browser):
    before = counts()
    assert browser.get("/raise-a-concern/").status_code == 200
    response = browser.post("/raise-a-concern/", {"category": "", "you_said": "", "place": "Atlantis",
                                                  "email": "bad"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and counts() == before
    assert all(f'href="#{name}"' in html for name in ("category", "you_said", "place", "email"))
    castle = browser.post("/raise-a-concern/", {"category": "", "you_said": "", "place": "Castle"})
    assert 'href="#place_key"' in castle.get_data(as_text=True) and 'name="place_key" type="radio"' in \
        castle.get_data(as_text=True)


def test_a_retired_category_cannot_be_chosen(app, browser):
    retired = one(ConcernCategory, name=GRAFFITI)
    retired.retired = True
    db.session.commit()
    before = counts()
    response = raise_online(browser, what=GRAFFITI, place="Wem")
    assert response.status_code == 400 and counts() == before


def test_the_form_needs_its_csrf_token(app):
    browser = Browser(app)
    before = counts()
    response = browser.post("/raise-a-concern/", form(place="Wem"), csrf=False)
    assert response.status_code == 400 and counts() == before
    assert "This form has expired or was not sent by this site" in text_of(response)


def test_what_a_resident_types_is_shown_as_text_never_as_markup_or_a_link(app, browser, as_role):
    said = 'Dealing at <a href="http://evil.example">the park</a> <script>alert(1)</script> {{ 7*7 }}'
    assert raise_online(browser, said=said, place="Wem").status_code == 302
    html = as_role("officer").get(f"/concerns/{newest().id}").get_data(as_text=True)
    assert '<a href="http://evil.example">' not in html and "<script>alert(1)" not in html
    assert "&lt;a href=&#34;http://evil.example&#34;&gt;" in html and "{{ 7*7 }}" in html


def test_sends_beyond_the_rate_limit_are_refused_with_a_clear_page_and_save_nothing(make_app):
    app = make_app(RATELIMIT_ENABLED=True, REPORT_RATE_LIMIT="2 per minute")
    with app.app_context():
        browser = Browser(app)
        assert raise_online(browser, place="Atlantis").status_code == 400  # a mistake put right is not counted
        assert raise_online(browser, place="Wem").status_code == 302
        assert raise_online(browser, place="Wem").status_code == 302
        before = counts()
        response = raise_online(browser, place="Wem")
        assert response.status_code == 429 and counts() == before
        assert "You have sent several concerns in a short time" in text_of(response)
        assert "Retry-After" in response.headers


def test_officers_cannot_log_a_concern_as_raised_online(app, as_role):
    page = as_role("officer").get("/concerns/new").get_data(as_text=True)
    assert 'value="resident_online"' not in page
    with pytest.raises(PortalError):
        concerns.log_concern(concerns.ConcernInput(category_id=one(ConcernCategory, name=YOUTHS).id, you_said="x",
                                                   locality_id=one(Locality, key="wem").id),
                             by=user("officer"), source="resident_online", raised_on=newest().raised_on)


# ---- telling the resident ------------------------------------------------------------------------

def messages_to(email):
    return db.session.execute(select(OutboxMessage).where(OutboxMessage.to_email == email)
                              .order_by(OutboxMessage.id)).scalars().all()


def move(officer, concern, status, **data):
    db.session.refresh(concern)
    response = officer.post(f"/concerns/{concern.id}/status", {"status": status, "version": str(concern.version_id)}
                            | data)
    assert response.status_code == 302, text_of(response)[:1500]


@pytest.mark.both_databases
def test_the_reporter_is_emailed_when_it_is_accepted_responded_to_and_closed_then_the_address_is_deleted(
        app, backend, browser, as_role):
    raise_online(browser, place="Wem", email=EMAIL)
    concern = newest()
    officer = as_role("officer")
    move(officer, concern, "accepted")
    move(officer, concern, "responded", we_did="Patrols at the bandstand on Friday and Saturday evenings")
    db.session.refresh(concern)
    assert officer.post(f"/concerns/{concern.id}/publish", {"version": str(concern.version_id)}).status_code == 302
    move(officer, concern, "closed")

    sent = messages_to(EMAIL)
    assert [m.subject.rsplit(": ", 1)[1] for m in sent] == ["accepted", "responded to", "closed"]
    assert all(m.kind == "concern_outcome" and m.to_user_id is None for m in sent)
    accepted, responded, closed = (m.body for m in sent)
    assert "accepted it" in accepted and "/raise-a-concern/stop-emails/" in accepted
    assert sent[0].unsubscribe_url and "/raise-a-concern/stop-emails/" in sent[0].unsubscribe_url
    assert "What was done: Patrols at the bandstand" in responded
    assert f"/places/{concern.locality.key}#concern-{concern.id}" in closed  # published by then: the link to it
    assert "we have now deleted your email address" in closed and sent[2].unsubscribe_url is None
    report = db.session.execute(select(OnlineReport).filter_by(concern_id=concern.id)).scalar_one()
    assert report.email == "" and report.email_cleared_at is not None
    assert EMAIL not in text_of(officer.get(f"/concerns/{concern.id}"))


def test_a_tasking_decision_tells_the_reporter_too_and_no_address_means_no_message(app, browser):
    raise_online(browser, place="Wem", email=EMAIL)
    told = newest()
    raise_online(browser, place="Wem", said="Litter after the youths leave")  # no address given
    untold = newest()
    meeting = new_meeting("north")
    for item in meeting.items:
        if item.concern_id in (told.id, untold.id):
            meetings.decide(item, by=user("officer"), decision="no_further_action", note="Dealt with at the PACT")
    db.session.commit()
    sent = messages_to(EMAIL)
    assert len(sent) == 1 and "no further action is needed" in sent[0].body
    assert "Why: Dealt with at the PACT" not in sent[0].body  # the internal note is not the public reason
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.kind == "concern_outcome")).scalar_one() == 1
    assert db.session.execute(select(OnlineReport).filter_by(concern_id=told.id)).scalar_one().email == ""


def test_the_stop_link_deletes_the_address_at_once_and_nothing_more_is_sent(app, browser, as_role):
    raise_online(browser, place="Wem", email=EMAIL)
    concern = newest()
    token = db.session.execute(select(OnlineReport).filter_by(concern_id=concern.id)).scalar_one().token
    page = browser.get(f"/raise-a-concern/stop-emails/{token}")
    assert page.status_code == 200 and "Stop the emails and delete my address" in text_of(page)
    # A mail client's one-click unsubscribe (RFC 8058): a bare POST, no form token.
    response = Browser(app).post(f"/raise-a-concern/stop-emails/{token}", {"List-Unsubscribe": "One-Click"},
                                 csrf=False)
    assert response.status_code == 200 and "We have deleted your email address" in text_of(response)
    db.session.expire_all()
    assert db.session.execute(select(OnlineReport).filter_by(concern_id=concern.id)).scalar_one().email == ""
    move(as_role("officer"), concern, "accepted")
    assert messages_to(EMAIL) == []
    wrong = browser.post("/raise-a-concern/stop-emails/not-a-token", {"List-Unsubscribe": "One-Click"}, csrf=False)
    assert wrong.status_code == 400 and "This link is not one we sent" in text_of(wrong)


def test_a_stop_post_from_another_site_is_refused_and_the_pages_own_button_works(app, browser):
    raise_online(browser, place="Wem", email=EMAIL)
    concern = newest()
    report = db.session.execute(select(OnlineReport).filter_by(concern_id=concern.id)).scalar_one()
    link = f"/raise-a-concern/stop-emails/{report.token}"
    # A page elsewhere posting to the link (no CSRF token, not the RFC 8058 body) changes nothing.
    for forged in ({}, {"List-Unsubscribe": "Yes"}):
        response = Browser(app).post(link, forged, csrf=False)
        assert response.status_code == 400 and "This form has expired or was not sent by this site" in text_of(response)
    db.session.expire_all()
    assert report.email == EMAIL and report.email_cleared_at is None
    # The link's page: its button is a form carrying its CSRF token.
    resident = Browser(app)
    page = resident.get(link)
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
    response = resident.post(link)
    assert response.status_code == 200 and "We have deleted your email address" in text_of(response)
    db.session.expire_all()
    assert report.email == "" and report.email_cleared_at is not None


@pytest.mark.both_databases
def test_a_task_review_that_publishes_the_answer_tells_the_resident_it_is_published_with_its_link(
        app, backend, browser):
    raise_online(browser, place="Wem", email=EMAIL)
    concern = newest()
    task = completed(new_task(concern), "Patrols at the bandstand every evening for a month")
    tasks.review_and_publish(task, by=user("officer"), version=task.version_id)
    db.session.commit()
    db.session.refresh(concern)
    assert concern.published and concern.status == "responded"

    sent = messages_to(EMAIL)
    assert [m.subject.rsplit(": ", 1)[1] for m in sent] == ["accepted", "responded to"]  # tasked, then answered
    body = sent[-1].body
    assert "What was done: Patrols at the bandstand every evening" in body
    assert "When the partnership publishes it" not in body
    link = updates.item_link(public.public_record(concern))  # the page of the list it is on, and its anchor
    assert f"Read it on the public site: {link}" in body and link.endswith(f"#concern-{concern.id}")
    path = urlsplit(link)
    page = Browser(app).get(path.path + (f"?{path.query}" if path.query else ""))
    assert page.status_code == 200 and f'id="concern-{concern.id}"' in page.get_data(as_text=True)


def test_the_form_page_is_never_kept_in_a_shared_cache(app, browser):
    response = browser.get("/raise-a-concern/")
    assert response.headers["Cache-Control"] == "private, no-store" and "ETag" not in response.headers
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert "Raise a concern" in text_of(browser.get("/")) and "/raise-a-concern/" in browser.get("/").get_data(
        as_text=True)


@pytest.mark.worker
def test_the_nightly_job_deletes_addresses_kept_too_long_through_the_real_worker(worker_app):
    from datetime import datetime, timedelta

    from portal.reporting import services as reporting

    def raised(email):
        concern = reporting.raise_concern(reporting.ResidentReport(
            category_id=one(ConcernCategory, name=YOUTHS).id, you_said="Worker test: still open", place="Wem",
            email=email))
        db.session.flush()
        return reporting.report_of(concern.id)

    old, recent = raised("old.resident@example.org"), raised("recent.resident@example.org")
    old.created_at = datetime.now() - timedelta(days=worker_app.config["REPORT_EMAIL_DAYS"] + 1)
    db.session.commit()
    cleared = worker_app.extensions["celery"].tasks["reporting.forget_old_addresses"].delay().get(timeout=60)
    assert cleared >= 1
    db.session.expire_all()
    assert old.email == "" and old.email_cleared_at is not None
    assert recent.email == "recent.resident@example.org"
