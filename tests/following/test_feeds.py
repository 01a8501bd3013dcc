"""A place's Atom feed, its PACT meetings page and calendar: the public record only, publicly cacheable,
and readable by the standard parsers whatever residents typed."""
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from portal.extensions import db

from ..conftest import text_of
from .test_following import MARK, meeting_in, published_in

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = 'Bins & "bags" <script>alert(1)</script>\x0b left; by the shop, again'


def test_the_atom_feed_parses_and_carries_we_did_texts_and_meetings_but_nothing_private(app, browser):
    app.config["PORTAL_URL"] = "https://safety.shropshire.example"
    concern = published_in("wem", HOSTILE, "Street cleansing twice a week & a new bin")
    meeting_in("wem", date.today() + timedelta(days=10), "Wem Town Hall")
    response = browser.get("/places/wem/updates.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    body = response.get_data(as_text=True)
    assert MARK not in body and "<script>" not in body
    feed = ET.fromstring(response.get_data())
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}title").text == "You said, we did: Wem"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://safety.shropshire.example/places/wem/updates.atom"
    entries = {e.find(f"{ATOM}id").text: e for e in feed.findall(f"{ATOM}entry")}
    ours = entries[f"https://safety.shropshire.example/places/wem#concern-{concern.id}"]
    content = ours.find(f"{ATOM}content").text
    assert 'Bins & "bags" <script>alert(1)</script> left; by the shop, again' in content  # text, not markup
    assert "We did" in content and "Street cleansing twice a week & a new bin" in content
    assert ours.find(f"{ATOM}updated").text.endswith("Z")
    meetings = [e for e in entries.values() if "PACT meeting in Wem" in e.find(f"{ATOM}title").text]
    assert any("Wem Town Hall" in e.find(f"{ATOM}title").text for e in meetings)
    county = ET.fromstring(browser.get("/places/shropshire/updates.atom").get_data())
    assert f"https://safety.shropshire.example/places/wem#concern-{concern.id}" in {
        e.find(f"{ATOM}id").text for e in county.findall(f"{ATOM}entry")}


def test_the_calendar_parses_with_one_all_day_event_per_upcoming_meeting(app, browser):
    on = date.today() + timedelta(days=15)
    meeting_in("wem", on, "Wem Town Hall; Room 2, High Street")
    meeting_in("wem", on, "Wem Town Hall; Room 2, High Street")  # two meetings naming the same next one
    meeting_in("wem", date.today() - timedelta(days=3), "Past venue")
    response = browser.get("/places/north/pact-meetings.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert MARK not in response.get_data(as_text=True)
    calendar = Calendar.from_ical(response.get_data())
    events = [e for e in calendar.walk("VEVENT") if str(e.get("location", "")) == "Wem Town Hall; Room 2, High Street"]
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == on and event.decoded("dtend") == on + timedelta(days=1)
    assert str(event["summary"]) == "PACT meeting: Wem" and "@" in str(event["uid"])
    assert "Past venue" not in response.get_data(as_text=True)
    assert str(calendar["x-wr-calname"]) == "PACT meetings: North"


def test_the_meetings_page_lists_upcoming_meetings_and_links_its_feeds(app, browser):
    meeting_in("wem", date.today() + timedelta(days=8), "Wem Town Hall")
    page = browser.get("/places/wem/pact-meetings")
    assert page.status_code == 200
    text = text_of(page)
    assert "PACT meetings in Wem" in text and "Wem Town Hall" in text and MARK not in text
    html = page.get_data(as_text=True)
    assert 'rel="alternate" type="text/calendar"' in html and 'href="/places/wem/pact-meetings.ics"' in html
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert browser.get("/places/atlantis/pact-meetings").status_code == 404
    assert browser.get("/places/atlantis/pact-meetings.ics").status_code == 404
    assert browser.get("/places/atlantis/updates.atom").status_code == 404


def test_feeds_are_cached_publicly_for_residents_and_never_for_staff_while_the_sign_up_is_never_cached(
        app, browser, as_role):
    for url in ("/places/wem/updates.atom", "/places/wem/pact-meetings.ics", "/places/wem/pact-meetings"):
        first = browser.get(url)
        assert first.headers["Cache-Control"].startswith("public, max-age="), url
        again = browser.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url
        assert as_role("officer").get(url).headers["Cache-Control"] == "private, no-store", url
    assert browser.get("/places/wem/follow").headers["Cache-Control"] == "private, no-store"


def test_a_new_we_did_reaches_the_feed_within_the_cache_time(make_app):
    from ..conftest import Browser

    app = make_app(PUBLIC_CACHE_SECONDS=0)
    with app.app_context():
        resident = Browser(app)
        before = resident.get("/places/wem/updates.atom").get_data(as_text=True)
        published_in("wem", "Fly-tipping in the lane", "The council cleared it in two days")
        after = resident.get("/places/wem/updates.atom").get_data(as_text=True)
        assert "The council cleared it in two days" not in before and "The council cleared it in two days" in after
        db.session.remove()


def test_the_list_and_locality_pages_link_their_feeds_and_sign_up(app, browser):
    listing = browser.get("/you-said-we-did").get_data(as_text=True)
    assert 'rel="alternate" type="application/atom+xml"' in listing and "/places/shropshire/updates.atom" in listing
    assert 'href="/places/shropshire/follow"' in listing and "Get updates for all of Shropshire" in listing
    south = browser.get("/you-said-we-did?area=south").get_data(as_text=True)
    assert 'href="/places/south/follow"' in south and "Get updates for South" in south


@pytest.mark.both_databases
def test_a_redacted_we_did_changes_its_entrys_updated_time_so_readers_fetch_the_new_text(app, backend, browser):
    from datetime import datetime

    from portal.concerns import corrections
    from portal.concerns.models import Concern

    from ..factories import user

    concern = published_in("wem", "Needles in the play area", "Removed by Dr Smith of 4 Mill Lane")
    db.session.execute(Concern.__table__.update().where(Concern.id == concern.id)
                       .values(updated_at=datetime.combine(date.today(), datetime.min.time())))
    db.session.commit()

    def entry():
        feed = ET.fromstring(browser.get("/places/wem/updates.atom").get_data())
        [ours] = [e for e in feed.findall(f"{ATOM}entry")
                  if e.find(f"{ATOM}id").text.endswith(f"#concern-{concern.id}")]
        return ours.find(f"{ATOM}updated").text, ours.find(f"{ATOM}content").text, feed.find(f"{ATOM}updated").text

    before, text, _ = entry()
    assert "Dr Smith" in text
    corrections.redact(db.session.get(Concern, concern.id), by=user("admin"), field="we_did",
                       text="Dr Smith of 4 Mill Lane")
    db.session.commit()
    after, text, feed_updated = entry()
    assert "Dr Smith" not in text and "[removed]" in text
    assert after > before and after.endswith("Z") and feed_updated >= after
