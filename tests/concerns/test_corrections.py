"""Putting a concern right after it is saved: edits with their history, withdrawal from public view (also of
a task's "We did"), redaction that leaves no trace of the words, and honest closure in public."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.concerns import corrections, services
from portal.concerns.models import ConcernCategory, ConcernEvent
from portal.errors import NotAllowed, PortalError
from portal.extensions import db
from portal.places.models import Locality
from portal.tasking import meetings
from portal.tasking import tasks as tasking

from ..conftest import Browser, text_of
from ..factories import logged_concern, new_concern, new_meeting, one, user

LITTER = "ENVIRONMENTAL - LITTER"


def events(concern, kind=None):
    query = select(ConcernEvent).filter_by(concern_id=concern.id).order_by(ConcernEvent.id)
    return [e for e in db.session.execute(query).scalars() if kind is None or e.kind == kind]


def edit_form(concern, **changes):
    """The edit form as the page fills it in, with ``changes`` typed over it."""
    form = {"version": str(concern.version_id), "category": str(concern.category_id),
            "locality": str(concern.locality_id), "street": concern.street, "lat": "", "lon": "",
            "you_said": concern.you_said, "internal_notes": concern.internal_notes,
            "raised_count": str(concern.raised_count)}
    return form | changes


# ---- editing ---------------------------------------------------------------------------------------

def test_an_officer_corrects_a_concern_and_each_change_is_in_its_history(app, as_role):
    concern = new_concern()
    officer = as_role("officer")
    page = officer.get(f"/concerns/{concern.id}")
    assert f'href="/concerns/{concern.id}/edit"' in page.get_data(as_text=True)
    form = officer.get(f"/concerns/{concern.id}/edit")
    assert form.status_code == 200 and "Youths gathering at the recreation ground" in text_of(form)
    response = officer.post(f"/concerns/{concern.id}/edit", edit_form(
        concern, category=str(one(ConcernCategory, name=LITTER).id), locality=str(one(Locality, key="whitchurch").id),
        you_said="Litter left at the recreation ground every night", internal_notes="Caller lives on Mill Lane",
        raised_count="3", street="Recreation ground", lat="52.96", lon="-2.68"))
    assert response.status_code == 302, text_of(response)[:1500]
    db.session.refresh(concern)
    assert (concern.category.name, concern.locality.name, concern.raised_count) == (LITTER, "Whitchurch", 3)
    assert (concern.lat, concern.lon, concern.street) == (52.96, -2.68, "Recreation ground")
    edits = {e.field: (e.old_value, e.new_value, e.by.display_name) for e in events(concern, "edited")}
    assert edits["category_id"] == ("YOUTH RELATED - YOUTHS INAPPROPRIATE GATHERING", LITTER, "PC Olivia Officer")
    assert edits["locality_id"][:2] == ("Wem", "Whitchurch")
    assert edits["you_said"][:2] == ("Youths gathering at the recreation ground every night",
                                     "Litter left at the recreation ground every night")
    assert edits["internal_notes"][:2] == ("Caller lives at 4 Mill Lane", "Caller lives on Mill Lane")
    assert edits["raised_count"][:2] == ("1", "3") and edits["lat"][:2] == ("", "52.96")
    history = text_of(officer.get(f"/concerns/{concern.id}"))
    assert "Changed category: “YOUTH RELATED - YOUTHS INAPPROPRIATE GATHERING” → “ENVIRONMENTAL - LITTER”" in history
    assert "Changed internal notes: “Caller lives at 4 Mill Lane” → “Caller lives on Mill Lane”" in history


def test_an_edit_from_a_stale_page_is_refused_and_nothing_changes(app, as_role):
    concern = new_concern()
    officer, admin = as_role("officer"), as_role("admin")
    stale = edit_form(concern, raised_count="4")
    assert admin.post(f"/concerns/{concern.id}/edit", edit_form(concern, raised_count="2")).status_code == 302
    response = officer.post(f"/concerns/{concern.id}/edit", stale)
    assert response.status_code == 400
    assert "Someone else changed this concern while you were reading it" in text_of(response)
    db.session.refresh(concern)
    assert concern.raised_count == 2 and len(events(concern, "edited")) == 1


def test_an_edit_that_changes_nothing_or_breaks_a_field_says_so_on_the_form(app, as_role):
    concern = new_concern()
    officer = as_role("officer")
    response = officer.post(f"/concerns/{concern.id}/edit", edit_form(concern))
    assert response.status_code == 400 and "Nothing was changed" in text_of(response)
    response = officer.post(f"/concerns/{concern.id}/edit", edit_form(concern, you_said="", lat="52.9"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'href="#you_said"' in page and "There is a problem" in page
    response = officer.post(f"/concerns/{concern.id}/edit", edit_form(concern, lat="52.9"))
    assert response.status_code == 400 and "Give both the latitude and the longitude" in text_of(response)
    assert events(concern, "edited") == []


def test_only_an_officer_of_the_area_or_an_admin_edits_and_moving_needs_the_new_area_too(app, as_role):
    concern = new_concern()
    ludlow = one(Locality, key="ludlow")
    with pytest.raises(NotAllowed):
        corrections.edit_concern(concern, corrections.ConcernEdit(
            category_id=concern.category_id, locality_id=concern.locality_id, you_said="Changed"), by=user("partner"))
    with pytest.raises(NotAllowed):
        corrections.edit_concern(concern, corrections.ConcernEdit(
            category_id=concern.category_id, locality_id=concern.locality_id, you_said="Changed"), by=user("analyst"))
    db.session.rollback()
    officer = as_role("officer")
    response = officer.post(f"/concerns/{concern.id}/edit", edit_form(concern, locality=str(ludlow.id)))
    assert response.status_code in (400, 403)  # Ludlow is not offered to a North officer, and refused if sent
    db.session.refresh(concern)
    assert concern.locality.key == "wem"
    edit = corrections.ConcernEdit(category_id=concern.category_id, locality_id=ludlow.id, you_said=concern.you_said,
                                   internal_notes=concern.internal_notes)
    with pytest.raises(NotAllowed, match="only to places in your own areas, not to Ludlow"):
        corrections.edit_concern(concern, edit, by=user("officer"))
    db.session.rollback()
    corrections.edit_concern(concern, edit, by=user("admin"))
    db.session.commit()
    assert concern.locality.key == "ludlow"
    assert as_role("officer").get(f"/concerns/{concern.id}/edit").status_code == 403  # no longer their area


# ---- withdrawing from public view ----------------------------------------------------------------------

def test_an_officer_withdraws_a_concern_with_a_reason_and_can_publish_it_again(app, as_role):
    concern = logged_concern(10, answered_after=2, said="Speeding on Shrewsbury Road")
    resident, officer = Browser(app), as_role("officer")
    assert resident.get(f"/api/concerns/{concern.id}.json").status_code == 200
    assert "Withdraw from public view" in text_of(officer.get(f"/concerns/{concern.id}"))
    response = officer.post(f"/concerns/{concern.id}/withdraw", {"version": str(concern.version_id), "reason": ""})
    assert response.status_code == 400 and "Give the reason for withdrawing it" in text_of(response)
    response = officer.post(f"/concerns/{concern.id}/withdraw",
                            {"version": str(concern.version_id), "reason": "The resident asked us to take it down"})
    assert response.status_code == 302
    db.session.refresh(concern)
    assert not concern.published
    assert resident.get(f"/api/concerns/{concern.id}.json").status_code == 404
    assert "Withdrawn from public view: The resident asked us to take it down" in text_of(
        officer.get(f"/concerns/{concern.id}"))
    assert officer.post(f"/concerns/{concern.id}/publish", {"version": str(concern.version_id)}).status_code == 302
    assert resident.get(f"/api/concerns/{concern.id}.json").status_code == 200
    assert [e.detail for e in events(concern, "published")][-1] == "Published to residents again"


def test_withdrawing_needs_a_published_concern_and_an_officer_of_its_area(app, as_role):
    concern = new_concern()
    with pytest.raises(PortalError, match="not published"):
        corrections.withdraw(concern, by=user("officer"), reason="Typo")
    concern.published = True
    db.session.commit()
    for who in ("partner", "analyst"):
        with pytest.raises(NotAllowed):
            corrections.withdraw(concern, by=user(who), reason="Typo")
    assert as_role("analyst").post(f"/concerns/{concern.id}/withdraw", {"reason": "Typo"}).status_code == 403
    db.session.refresh(concern)
    assert concern.published


def answered_task(*concerns_, we_did="Patrols twice a week and a youth club on Fridays"):
    """A task for the partner answering ``concerns_``, completed and reviewed: their "We did" is published."""
    task = tasking.create_task(by=user("officer"), title="Recreation ground", problem="Gatherings",
                               locality_id=concerns_[0].locality_id,
                               lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
                               due_on=date.today() + timedelta(days=14), concern_ids=[c.id for c in concerns_])
    db.session.flush()
    for stage in ("analysis", "response"):
        tasking.update_task(task, by=user("partner"), version=task.version_id, stage=stage, text=f"Now {stage}",
                            location="The recreation ground")
    tasking.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                        assessment="Calls fell", we_did=we_did)
    tasking.review_and_publish(task, by=user("officer"), version=task.version_id)
    db.session.commit()
    return task


def test_an_officer_withdraws_a_tasks_we_did_from_the_task_page(app, as_role):
    first, second = new_concern(), new_concern(said="Noise from the recreation ground", name=LITTER)
    task = answered_task(first, second)
    resident, officer, partner = Browser(app), as_role("officer"), as_role("partner")
    assert {c.published for c in (first, second)} == {True}
    assert "Withdraw the “We did”" in text_of(officer.get(f"/tasks/{task.id}"))
    assert "Withdraw the “We did”" not in text_of(partner.get(f"/tasks/{task.id}"))
    assert partner.post(f"/tasks/{task.id}/withdraw", {"reason": "x"}).status_code == 403
    response = officer.post(f"/tasks/{task.id}/withdraw", {"reason": ""})
    assert response.status_code == 400 and "Give the reason for withdrawing it" in text_of(response)
    response = officer.post(f"/tasks/{task.id}/withdraw", {"reason": "The youth club was cancelled"})
    assert response.status_code == 302
    for concern in (first, second):
        db.session.refresh(concern)
        assert not concern.published
        assert resident.get(f"/api/concerns/{concern.id}.json").status_code == 404
        assert events(concern, "withdrawn")[-1].detail == "The youth club was cancelled"
    db.session.refresh(task)
    assert not task.published and "'We did' withdrawn from public view (2 concerns)" in task.updates[-1].text
    # Reviewed again, the "We did" is back for residents.
    assert officer.post(f"/tasks/{task.id}/review", {"version": str(task.version_id)}).status_code == 302
    assert resident.get(f"/api/concerns/{first.id}.json").status_code == 200


# ---- redaction --------------------------------------------------------------------------------------

PHONE = "07700 900123"


def test_redacting_refuses_words_that_do_not_appear_exactly(app, as_role):
    concern = new_concern(said=f"Youths at the park, ring Dave on {PHONE}")
    officer = as_role("officer")
    page = officer.get(f"/concerns/{concern.id}/redact")
    assert page.status_code == 200 and "js/redact.js" in page.get_data(as_text=True)
    for typed in ("07700900123", "dave on", "ring Bob"):
        response = officer.post(f"/concerns/{concern.id}/redact",
                                {"version": str(concern.version_id), "field": "you_said", "text": typed})
        assert response.status_code == 400
        assert f"“{typed}” does not appear in “You said” as written" in text_of(response)
    db.session.refresh(concern)
    assert PHONE in concern.you_said and events(concern, "redacted") == []


def test_redacting_we_did_reaches_every_concern_the_task_answered(app, as_role):
    first, second = new_concern(), new_concern(said="Noise from the recreation ground", name=LITTER)
    task = answered_task(first, second, we_did="PC Jones (mobile 07700 900456) now patrols twice a week")
    response = as_role("officer").post(f"/concerns/{first.id}/redact", {
        "version": str(first.version_id), "field": "we_did", "text": "PC Jones (mobile 07700 900456)"})
    assert response.status_code == 302, text_of(response)[:1500]
    for concern in (first, second):
        db.session.refresh(concern)
        assert concern.we_did == "[removed] now patrols twice a week"
        assert events(concern, "redacted")[-1].field == "we_did"
    db.session.refresh(task)
    assert task.we_did == "[removed] now patrols twice a week"


# ---- honest closure -----------------------------------------------------------------------------------

def test_a_responded_concern_can_go_to_no_further_action_with_a_reason_residents_read(app, as_role):
    concern = logged_concern(20, answered_after=3, said="Speeding past the school")
    officer, resident = as_role("officer"), Browser(app)
    move = {"version": str(concern.version_id), "status": "no_further_action", "reason": "Checked with traffic"}
    page = text_of(officer.get(f"/concerns/{concern.id}"))
    assert "Reason residents will read (public)" in page
    response = officer.post(f"/concerns/{concern.id}/status", move)
    assert response.status_code == 400
    assert "Give the reason for no further action that residents will read" in text_of(response)
    reason = "Speed checks found most drivers within the limit, so the checks have ended"
    assert officer.post(f"/concerns/{concern.id}/status", move | {"public_reason": reason}).status_code == 302
    db.session.refresh(concern)
    assert concern.status == "no_further_action" and concern.published and concern.decided_on == date.today()
    record = resident.get(f"/api/concerns/{concern.id}.json").get_json()
    assert record["status"] == "no_further_action" and record["reason"] == reason
    assert record["we_did"] == "Speed checks every week"  # what was done before stays public
    assert reason in text_of(resident.get("/you-said-we-did?q=Wem"))
    assert reason in text_of(resident.get("/places/wem"))
    assert "Checked with traffic" not in resident.get(f"/api/concerns/{concern.id}.json").get_data(as_text=True)
    closed = resident.get("/open311/v2/requests.json?status=closed").get_json()
    mine = next(r for r in closed if r["service_request_id"] == str(concern.id))
    assert reason in mine["status_notes"]


def test_escalating_to_the_county_group_is_public_from_the_concern_page_and_the_agenda(app, as_role):
    concern = new_concern()
    officer, resident = as_role("officer"), Browser(app)
    services.publish(concern, by=user("officer"))
    db.session.commit()
    reason = "Gatherings spread across three towns, so the county group is coordinating the response"
    response = officer.post(f"/concerns/{concern.id}/status", {"version": str(concern.version_id),
                                                               "status": "escalated", "public_reason": reason})
    assert response.status_code == 302, text_of(response)[:1500]
    record = resident.get(f"/api/concerns/{concern.id}.json").get_json()
    assert (record["status"], record["status_label"], record["reason"]) == (
        "escalated", "Passed to the county group", reason)
    opened = resident.get("/open311/v2/requests.json?status=open").get_json()
    assert str(concern.id) in {r["service_request_id"] for r in opened}
    points = resident.get("/api/map-points.json?q=Wem").get_json()["points"]
    assert [concern.id, "escalated"] in [item for _, _, items in points for item in items]

    # At a Bronze meeting, the chair's "escalate to Silver" moves the concern there too.
    other = new_concern(said="Cars racing on the bypass at night", name="VEHICLE RELATED - SPEEDING TRAFFIC")
    services.publish(other, by=user("officer"))
    meeting = new_meeting()
    item = next(i for i in meeting.items if i.concern_id == other.id)
    meetings.decide(item, by=user("officer"), decision="escalate_silver", note="Needs the roads policing unit")
    db.session.commit()
    db.session.refresh(other)
    assert other.status == "escalated" and other.status_reason == "Needs the roads policing unit"
    record = resident.get(f"/api/concerns/{other.id}.json").get_json()
    assert record["status"] == "escalated" and "county (Silver) tasking group" in record["reason"]
    assert "Needs the roads policing unit" not in str(record)
    assert "Not written yet: residents read" in text_of(officer.get(f"/concerns/{other.id}"))
    # An officer then writes the reason residents read, on the edit page.
    response = officer.post(f"/concerns/{other.id}/edit", edit_form(
        other, public_reason="Roads policing officers now patrol the bypass on Friday nights"))
    assert response.status_code == 302
    assert resident.get(f"/api/concerns/{other.id}.json").get_json()["reason"].startswith("Roads policing")
    assert [e.field for e in events(other, "edited")] == ["public_reason"]


def test_the_register_filters_counts_and_exports_escalated_concerns(app, as_role):
    concern = new_concern()
    services.change_status(concern, "escalated", by=user("officer"), public_reason="County group leads")
    db.session.commit()
    analyst = as_role("analyst")
    rows = list(csv.DictReader(io.StringIO(analyst.get("/concerns/export.csv?status=escalated")
                                           .get_data(as_text=True))))
    assert [(r["id"], r["status"]) for r in rows] == [(str(concern.id), "Escalated to the county (Silver) group")]
    assert "Escalated to the county (Silver) group: 1" in text_of(analyst.get("/concerns/"))
