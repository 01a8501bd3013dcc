"""Corrections as residents meet them: a withdrawn concern leaves every public page, feed and API within
the public cache time (the real cache, in-process and Redis), and redacted words are nowhere: not on a public
page or API, not in an export, not in any row of any table."""
import csv
import io
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.concerns import services as concerns
from portal.extensions import db
from portal.places.models import Locality
from portal.tasking.models import TaskingMeeting

from ..conftest import DEMO_EMAILS, Browser, text_of
from ..factories import one, plan_action, user
from .test_public import public_urls

WEM = "wem"


def log(said, *, repeat_of=None, count=1):
    """A resident contact logged in Wem by the North officer three days ago (through the service)."""
    from portal.concerns.models import ConcernCategory

    return concerns.log_concern(concerns.ConcernInput(
        category_id=one(ConcernCategory, name="YOUTH RELATED - YOUTHS INAPPROPRIATE GATHERING").id, you_said=said,
        locality_id=one(Locality, key=WEM).id, raised_count=count, repeat_of_id=repeat_of,
        internal_notes="Caller asked for a call back"),
        by=user("officer"), source="resident_contact", raised_on=date.today() - timedelta(days=3))


def public_bodies(resident, app, concern):
    """{url: body} of every public URL (test_public.public_urls) with this concern's id and Wem's pages."""
    from flask import url_for

    urls = public_urls(app, concern)
    with app.test_request_context():
        urls += [url_for("public.you_said_we_did", q="Wem"), url_for("public.locality", key=WEM),
                 url_for("public.map_points", q="Wem"), url_for("public.concerns_csv", q="Wem"),
                 url_for("public.neighbourhood_priorities", key=WEM), url_for("following.feeds.atom", key=WEM),
                 url_for("following.feeds.atom", key="shropshire")]
    bodies = {}
    for url in urls:
        response = resident.get(url)
        assert response.status_code in (200, 404), url
        bodies[url] = response.get_data(as_text=True)
    return bodies


@pytest.fixture(params=("in-process cache", "redis cache"))
def resident(request, make_app):
    """A resident's browser on an app whose public cache time is one second, with the real cache."""
    settings = {} if request.param == "in-process cache" else request.getfixturevalue("redis_cache_settings")
    return Browser(make_app(PUBLIC_CACHE_SECONDS=1, **settings))


def test_a_withdrawn_concern_leaves_every_public_page_feed_and_api_within_the_cache_time(app, resident):
    said = "Skateboarders on the war memorial steps every evening"
    concern = log(said)
    concerns.change_status(concern, "responded", by=user("officer"), we_did="Skate park sessions started")
    concerns.publish(concern, by=user("officer"))
    db.session.commit()
    before = public_bodies(resident, resident.app, concern)  # the cache now holds the concern everywhere
    showing = [url for url, body in before.items() if said in body]
    assert len(showing) >= 8, showing
    assert resident.get(f"/api/concerns/{concern.id}.json").status_code == 200

    officer = Browser(resident.app).sign_in(DEMO_EMAILS["officer"])
    response = officer.post(f"/concerns/{concern.id}/withdraw", {"version": str(concern.version_id),
                                                                 "reason": "The photo showed a child's face"})
    assert response.status_code == 302
    time.sleep(1.2)
    after = public_bodies(resident, resident.app, concern)
    assert [url for url, body in after.items() if said in body] == []
    assert resident.get(f"/api/concerns/{concern.id}.json").status_code == 404
    assert resident.get(f"/open311/v2/requests/{concern.id}.json").status_code == 404
    points = resident.get("/api/map-points.json?q=Wem").get_json()["points"]
    assert concern.id not in {item[0] for _, _, items in points for item in items}
    assert "The photo showed a child's face" in text_of(officer.get(f"/concerns/{concern.id}"))


def test_redacted_words_leave_public_pages_within_the_cache_time(app, resident):
    secret = "Dave Smith on 07700 900123"
    concern = log(f"Ball games outside number 4, ring {secret}")
    concerns.publish(concern, by=user("officer"))
    db.session.commit()
    assert any(secret in body for body in public_bodies(resident, resident.app, concern).values())
    officer = Browser(resident.app).sign_in(DEMO_EMAILS["officer"])
    assert officer.post(f"/concerns/{concern.id}/redact", {"version": str(concern.version_id),
                                                           "field": "you_said", "text": secret}).status_code == 302
    time.sleep(1.2)
    bodies = public_bodies(resident, resident.app, concern)
    assert [url for url, body in bodies.items() if "07700 900123" in body or "Dave Smith" in body] == []
    assert "Ball games outside number 4, ring [removed]" in text_of(resident.get("/you-said-we-did?q=Wem"))


def rows_holding(text):
    """(table, row) of every row of every table with ``text`` in one of its values."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            if any(isinstance(value, str) and text in value for value in row):
                found.append((table.name, row))
    return found


def test_redacted_words_are_in_no_public_page_no_export_and_no_table_row(app, browser, as_role):
    secret = "Dave Smith on 07700 900123"
    officer, partner, analyst = as_role("officer"), as_role("partner"), as_role("analyst")
    concern = log(f"Ball games outside number 4, ring {secret}")
    log(f"Raised again: the ball games. Ring {secret}", repeat_of=concern.id, count=2)  # quoted in a repeat event
    concerns.publish(concern, by=user("officer"))
    db.session.commit()
    # Bronze tasking copies the words: the agenda item's summary, then the task raised from it, its notification.
    north = one(Locality, key="north")
    assert officer.post("/tasking/meetings/new", {"area": str(north.id),
                                                  "held_on": date.today().strftime("%d/%m/%Y")}).status_code == 302
    meeting = db.session.execute(select(TaskingMeeting)).scalars().one()
    item = next(i for i in meeting.items if i.concern_id == concern.id)
    assert secret in item.summary
    due = (date.today() + timedelta(days=20)).strftime("%d/%m/%Y")
    assert officer.post(f"/tasking/meetings/{meeting.id}/items/{item.id}", {
        "decision": "create_task", "title": "Ball games in Wem", "due_on": due, "action": str(plan_action().id),
        "lead_organisation": str(user("partner").organisation_id), "owner": str(user("partner").id)},
    ).status_code == 302
    db.session.refresh(item)
    task = item.resulting_task
    assert partner.post(f"/tasks/{task.id}/update", {"version": str(task.version_id), "stage": "scanning",
                                                     "status": "open", "text": f"Called {secret}: no answer"},
                        ).status_code == 302
    db.session.expire_all()
    assert {name for name, _ in rows_holding(secret)} >= {"concerns", "concern_events", "agenda_items", "tasks",
                                                          "task_updates", "outbox_messages"}

    response = officer.post(f"/concerns/{concern.id}/redact", {"version": str(concern.version_id),
                                                               "field": "you_said", "text": secret})
    assert response.status_code == 302, text_of(response)[:1500]
    db.session.expire_all()
    assert rows_holding(secret) == []
    assert rows_holding("07700 900123") == []
    for url, body in public_bodies(browser, app, concern).items():
        assert "07700 900123" not in body, url
    exports = [analyst.get("/concerns/export.csv").get_data(as_text=True),
               officer.get(f"/tasking/meetings/{meeting.id}/record.csv").get_data(as_text=True),
               browser.get("/api/concerns.csv").get_data(as_text=True)]
    assert all("07700 900123" not in export for export in exports)
    register = list(csv.DictReader(io.StringIO(exports[0])))
    assert next(r for r in register if r["id"] == str(concern.id))["you_said"] == \
        "Ball games outside number 4, ring [removed]"
    for page in (officer.get(f"/concerns/{concern.id}"), officer.get(f"/tasks/{task.id}"),
                 officer.get(f"/tasking/meetings/{meeting.id}"), as_role("admin").get("/admin/outbox")):
        assert "07700 900123" not in page.get_data(as_text=True)
    history = text_of(officer.get(f"/concerns/{concern.id}"))
    assert "PC Olivia Officer Redacted: Part of “You said” was replaced with [removed]" in history
    # The concern's own notes are the officer's record, not a copy of the public text: they stay.
    db.session.refresh(concern)
    assert concern.internal_notes == "Caller asked for a call back"
