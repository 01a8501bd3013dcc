"""A task after it is raised: its details change with a dated log entry and the people concerned are told;
an edited "We did" goes back to review; each linked concern gets its own "We did"."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.concerns.models import ConcernEvent
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking import task_details, task_log
from portal.tasking import tasks as services
from portal.tasking.models import Task, TaskUpdate

from ..conftest import Browser, text_of
from ..factories import completed, new_concern, new_task, one, user

PASSWORD = "a-long-enough-password"
FIRE, YOUTH, RSL = "Shropshire Fire and Rescue Service", "Shropshire Youth", "Registered Social Landlords"
SPEEDING, DOG_FOULING = "VEHICLE RELATED - SPEEDING TRAFFIC", "ENVIRONMENTAL - DOG FOULING"


def person(email, name, organisation, role="partner"):
    """A partner agency's member who can sign in. Commits."""
    member = User(email=email, display_name=name, role=role, organisation=one(Organisation, name=organisation))
    member.set_password(PASSWORD)
    db.session.add(member)
    db.session.commit()
    return member


def signed_in(app, member):
    return Browser(app).sign_in(member.email, PASSWORD)


def due_parts(day):
    return {"due_on-day": str(day.day), "due_on-month": str(day.month), "due_on-year": str(day.year)}


def details_form(task, due_on=None, **changes):
    """What the "Change task details" form sends: the task as it is, with ``changes``."""
    db.session.refresh(task)
    fields = {"version": str(task.version_id), **due_parts(due_on or task.due_on), "owner": str(task.owner_id),
              "lead_organisation": str(task.lead_organisation_id), "priority": task.priority,
              "supporting": [str(o.id) for o in task.supporting_organisations], "due_reason": ""}
    return fields | changes


def state(task):
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    return (task.due_on, task.owner_id, task.lead_organisation_id, sorted(o.id for o in task.supporting_organisations),
            task.priority, task.version_id, len(task.updates),
            db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one())


def messages_to(member):
    return db.session.execute(select(OutboxMessage).filter_by(to_user_id=member.id)
                              .order_by(OutboxMessage.id)).scalars().all()


def test_the_log_says_when_and_why_a_due_date_moved():
    entry = TaskUpdate(field="due_on", old_value="2025-03-03", new_value="2025-03-17", text="waiting for CCTV")
    assert task_log.describe(entry) == "Due date moved from 3 Mar 2025 to 17 Mar 2025: waiting for CCTV"


@pytest.mark.both_databases
def test_a_lead_partner_moves_the_due_date_with_a_reason(app, as_role):
    task = new_task()
    partner = as_role("partner")
    page = partner.get(f"/tasks/{task.id}")
    assert "Change task details" in text_of(page)
    form = partner.get(f"/tasks/{task.id}/details")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert f'name="due_on-day" type="text" inputmode="numeric" value="{task.due_on.day}"' in html
    later = task.due_on + timedelta(days=14)
    before = state(task)

    refused = partner.post(f"/tasks/{task.id}/details", details_form(task, due_on=later))
    assert refused.status_code == 400
    assert "Give the reason for the new due date" in text_of(refused)
    assert 'href="#due_reason"' in refused.get_data(as_text=True)
    assert state(task) == before

    saved = partner.post(f"/tasks/{task.id}/details",
                         details_form(task, due_on=later, due_reason="waiting for CCTV"))
    assert saved.status_code == 302
    db.session.refresh(task)
    assert task.due_on == later
    log = text_of(partner.get(f"/tasks/{task.id}"))
    assert (f"Due date moved from {before[0].day} {before[0]:%b %Y} to {later.day} {later:%b %Y}: "
            "waiting for CCTV") in log
    assert "Pat Partner (Registered Social Landlords)" in log


def test_an_officer_hands_the_task_to_other_partners_and_everyone_concerned_is_told(app, as_role):
    task = new_task()
    fiona = person("fiona@fire.example.org", "Fiona Fire", FIRE)
    yusuf = person("yusuf@youth.example.org", "Yusuf Youth", YOUTH)
    pat, officer = user("partner"), as_role("officer")
    officers_messages = len(messages_to(user("officer")))
    youth, fire = one(Organisation, name=YOUTH), one(Organisation, name=FIRE)
    response = officer.post(f"/tasks/{task.id}/details", details_form(
        task, owner=str(fiona.id), lead_organisation=str(fire.id), supporting=[str(youth.id)], priority="high"))
    assert response.status_code == 302, text_of(response)[-800:]

    db.session.refresh(task)
    assert (task.owner, task.lead_organisation, task.supporting_organisations, task.priority) == (
        fiona, fire, [youth], "high")
    changes = [(u.field, task_log.describe(u)) for u in task.updates if u.field]
    assert changes == [("owner", "Owner changed from Pat Partner to Fiona Fire"),
                       ("lead_organisation", f"Lead partner changed from {RSL} to {FIRE}"),
                       ("supporting", f"Supporting partners changed from none to {YOUTH}"),
                       ("priority", "Priority changed from Medium to High")]
    assert {u.version for u in task.updates if u.field} == {task.version_id}

    [handed] = messages_to(fiona)
    assert handed.subject == "Task handed to you: Youths at the recreation ground"
    assert f"Lead partner changed from {RSL} to {FIRE}" in handed.body
    assert [m.subject for m in messages_to(yusuf)] == [
        "Your organisation now works on: Youths at the recreation ground"]
    assert [m.subject for m in messages_to(pat) if m.kind == "partners"] == [
        "Your organisation no longer works on: Youths at the recreation ground"]
    assert len(messages_to(user("officer"))) == officers_messages  # nobody hears of their own change
    # the organisation no longer on the task no longer sees it
    assert as_role("partner").get(f"/tasks/{task.id}").status_code == 403
    assert signed_in(app, fiona).get(f"/tasks/{task.id}/details").status_code == 200


def test_a_lead_partner_hands_the_lead_to_a_supporting_partner(app, as_role):
    task = new_task()
    fiona = person("fiona@fire.example.org", "Fiona Fire", FIRE)
    fire, rsl = one(Organisation, name=FIRE), one(Organisation, name=RSL)
    partner = as_role("partner")
    assert partner.post(f"/tasks/{task.id}/details", details_form(task, supporting=[str(fire.id)])).status_code == 302
    response = partner.post(f"/tasks/{task.id}/details", details_form(
        task, lead_organisation=str(fire.id), owner=str(fiona.id), supporting=[str(rsl.id)]))
    assert response.status_code == 302, text_of(response)[-800:]
    db.session.refresh(task)
    assert (task.lead_organisation, task.owner, task.supporting_organisations) == (fire, fiona, [rsl])
    # Now only a supporting partner, Pat reads the task but no longer changes its details.
    assert partner.get(f"/tasks/{task.id}").status_code == 200
    assert "Change task details" not in text_of(partner.get(f"/tasks/{task.id}"))
    assert partner.get(f"/tasks/{task.id}/details").status_code == 403


REFUSALS = {
    # case: (who, changes, status, message, field linked from the error summary)
    "owner outside the partnership": ("partner", lambda ids: {"owner": ids["fiona"]}, 403,
                                      "You can hand this task only to people of the organisations already "
                                      "working on it, not to Fiona Fire", "owner"),
    "lead outside the partnership": ("partner", lambda ids: {"lead_organisation": ids["fire"], "owner": ids["fiona"]},
                                     403, "Lead partner: you can hand the lead only to an organisation already "
                                          f"working on this task, not to {FIRE}", "lead_organisation"),
    "owner who does not exist": ("officer", lambda ids: {"owner": "999999"}, 400, "Choose who owns the task", "owner"),
    "lead that does not exist": ("officer", lambda ids: {"lead_organisation": "999999"}, 400,
                                 "Lead partner: choose one of the partner organisations in the list",
                                 "lead_organisation"),
    "supporting partner that does not exist": ("officer", lambda ids: {"supporting": ["999999"]}, 400,
                                               "Supporting partners: there is no active partner organisation "
                                               "999999", "supporting"),
    "supporting partner that is not an id": ("partner", lambda ids: {"supporting": ["fire"]}, 400,
                                             "Supporting partners: choose from the list", "supporting"),
    "owner outside the lead partner": ("officer", lambda ids: {"owner": ids["officer"]}, 400,
                                       f"The owner must work for the lead partner, {RSL}; PC Olivia Officer is not "
                                       "a member of it", "owner"),
    "past due date": ("officer", lambda ids: {**due_parts(date.today() - timedelta(days=1)), "due_reason": "late"},
                      400, "The due date must be today or later", "due_on-day"),
    "priority": ("partner", lambda ids: {"priority": "urgent"}, 400, "Not a valid choice", "priority"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_change_names_the_field_and_saves_nothing(app, as_role, case):
    task = new_task()
    fiona = person("fiona@fire.example.org", "Fiona Fire", FIRE)
    ids = {"fiona": str(fiona.id), "fire": str(one(Organisation, name=FIRE).id), "officer": str(user("officer").id)}
    who, changes, status, message, field = REFUSALS[case]
    before = state(task)
    # Each refused form also asks for a change that would be allowed: none of it is saved.
    priority = {"priority": "low"} if case != "priority" else {}
    response = as_role(who).post(f"/tasks/{task.id}/details", details_form(task, **priority, **changes(ids)))
    assert response.status_code == status
    assert message in text_of(response).replace("&#39;", "'")
    assert f'href="#{field}"' in response.get_data(as_text=True)
    assert state(task) == before


def test_only_the_lead_partner_officers_of_the_area_and_admins_change_details(app, as_role):
    task = new_task()
    fire = one(Organisation, name=FIRE)
    task_details.change_task_details(task, by=user("officer"), version=task.version_id, due_on=task.due_on,
                                 owner_id=task.owner_id, lead_organisation_id=task.lead_organisation_id,
                                 supporting_ids=[fire.id], priority=task.priority)
    db.session.commit()
    fiona = signed_in(app, person("fiona@fire.example.org", "Fiona Fire", FIRE))  # a supporting partner
    assert fiona.get(f"/tasks/{task.id}").status_code == 200
    assert "Change task details" not in text_of(fiona.get(f"/tasks/{task.id}"))
    assert fiona.get(f"/tasks/{task.id}/details").status_code == 403
    before = state(task)
    assert fiona.post(f"/tasks/{task.id}/details", details_form(task, priority="high")).status_code == 403
    assert as_role("analyst").get(f"/tasks/{task.id}/details").status_code == 403
    assert state(task) == before
    assert as_role("admin").post(f"/tasks/{task.id}/details", details_form(task, priority="high")).status_code == 302


def test_two_people_changing_details_at_once_lose_nothing(app, as_role):
    task = new_task()
    officer, partner = as_role("officer"), as_role("partner")
    stale = details_form(task)
    assert officer.post(f"/tasks/{task.id}/details", stale | {"priority": "high"}).status_code == 302
    later = task.due_on + timedelta(days=7)
    response = partner.post(f"/tasks/{task.id}/details",
                            stale | due_parts(later) | {"due_reason": "Contractor booked for the 20th"})
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone saved this task after you opened it: PC Olivia Officer" in page
    assert "Priority changed from Medium to High" in page and "Contractor booked for the 20th" in page
    db.session.refresh(task)
    assert task.due_on != later
    fresh = re.search(r'name="version" type="hidden" value="(\d+)"', response.get_data(as_text=True)).group(1)
    assert fresh == str(task.version_id)
    again = partner.post(f"/tasks/{task.id}/details", details_form(task, due_on=later) | {
        "due_reason": "Contractor booked for the 20th"})
    assert again.status_code == 302
    db.session.refresh(task)
    assert (task.due_on, task.priority) == (later, "high")


def test_a_completed_tasks_due_date_stays_and_nothing_changed_is_said(app, as_role):
    task = new_task()
    officer = as_role("officer")
    unchanged = officer.post(f"/tasks/{task.id}/details", details_form(task))
    assert unchanged.status_code == 400 and "Nothing was changed" in text_of(unchanged)
    services.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                         assessment="Calls fell", we_did="Patrols added")
    db.session.commit()
    response = officer.post(f"/tasks/{task.id}/details",
                            details_form(task, due_on=task.due_on + timedelta(days=3), due_reason="Late"))
    assert response.status_code == 400
    assert "The due date of a task that is completed stays as it was" in text_of(response).replace("&#39;", "'")


# ---- a published "We did" edited -----------------------------------------------------------------

def public_we_did(app, concern):
    return Browser(app).get(f"/api/concerns/{concern.id}.json").get_json()["we_did"]


@pytest.mark.both_databases
def test_a_partners_edit_of_a_published_we_did_waits_for_review(app, as_role):
    concern = new_concern()
    task = completed(new_task(concern), "A Friday youth club started")
    officer, partner = as_role("officer"), as_role("partner")
    assert officer.post(f"/tasks/{task.id}/review", {"version": str(task.version_id)}).status_code == 302
    assert public_we_did(app, concern) == "A Friday youth club started"
    db.session.refresh(task)
    assert "Edited since publication" not in text_of(officer.get(f"/tasks/{task.id}"))

    emptied = partner.post(f"/tasks/{task.id}/update", {"version": str(task.version_id), "stage": task.stage,
                                                        "status": task.status, "we_did": ""})
    assert emptied.status_code == 400
    assert "replace it with the new text rather than emptying it" in text_of(emptied)
    edited = partner.post(f"/tasks/{task.id}/update", {
        "version": str(task.version_id), "stage": task.stage, "status": task.status,
        "we_did": "A Friday youth club runs every week and patrols were doubled"})
    assert edited.status_code == 302
    # Residents keep the published text until an officer publishes the new one.
    assert public_we_did(app, concern) == "A Friday youth club started"
    assert "Edited since publication: awaiting review" in text_of(partner.get(f"/tasks/{task.id}"))
    page = text_of(officer.get(f"/tasks/{task.id}"))
    assert "Edited since publication: awaiting review" in page
    assert "We did (published: what residents read) A Friday youth club started" in page
    assert ("We did (edited since publication, awaiting review) A Friday youth club runs every week and patrols "
            "were doubled") in page
    assert ("Residents read now (Youth related - youths inappropriate gathering in Wem): "
            "“A Friday youth club started”") in page
    assert ("'We did' edited since publication, awaiting review: “A Friday youth club runs every week and patrols "
            "were doubled” (published: “A Friday youth club started”)") in page

    db.session.refresh(task)
    assert officer.post(f"/tasks/{task.id}/review", {"version": str(task.version_id)}).status_code == 302
    assert public_we_did(app, concern) == "A Friday youth club runs every week and patrols were doubled"
    assert "Edited since publication" not in text_of(officer.get(f"/tasks/{task.id}"))
    assert db.session.execute(select(ConcernEvent.detail).filter_by(concern_id=concern.id, kind="edited")
                              ).scalar_one() == f"Public 'We did' replaced on review of task {task.id}"
    db.session.refresh(task)
    again = officer.post(f"/tasks/{task.id}/review", {"version": str(task.version_id)})
    assert again.status_code == 400 and "already published and has not been edited since" in text_of(again)


# ---- one task, several concerns ------------------------------------------------------------------

def speeding_task_answering_two_concerns():
    speeding = new_concern(said="Cars racing down the High Street after school", name=SPEEDING)
    dogs = new_concern(said="Dog mess by the school gate <b>every</b> day", name=DOG_FOULING)
    task = services.create_task(by=user("officer"), title="Speeding on the High Street", problem="Speeding",
                                locality_id=one(Locality, key="wem").id,
                                lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
                                due_on=date.today() + timedelta(days=14), concern_ids=[speeding.id, dogs.id])
    db.session.commit()
    return completed(task, "Speed checks twice a week on the High Street"), speeding, dogs


@pytest.mark.both_databases
def test_a_dog_fouling_concern_on_a_speeding_task_gets_its_own_we_did(app, as_role):
    task, speeding, dogs = speeding_task_answering_two_concerns()
    officer = as_role("officer")
    page = officer.get(f"/tasks/{task.id}")
    html, text = page.get_data(as_text=True), text_of(page)
    assert ("We did for Vehicle related - speeding traffic in Wem. You said: “Cars racing down the High Street "
            "after school”") in text
    assert ("We did for Environmental - dog fouling in Wem. You said: "
            "“Dog mess by the school gate <b>every</b> day”") in text
    assert "&lt;b&gt;every&lt;/b&gt;" in html and "<b>every</b>" not in html
    for concern in (speeding, dogs):  # both start from the task's text
        assert re.search(rf'<textarea[^>]*id="we_did_{concern.id}"[^>]*>\s*Speed checks twice a week', html)

    response = officer.post(f"/tasks/{task.id}/review", {
        "version": str(task.version_id), f"we_did_{speeding.id}": "Speed checks twice a week on the High Street",
        f"we_did_{dogs.id}": "Dog wardens patrolled the school gate at home time and issued two fines"})
    assert response.status_code == 302
    assert public_we_did(app, speeding) == "Speed checks twice a week on the High Street"
    assert public_we_did(app, dogs) == "Dog wardens patrolled the school gate at home time and issued two fines"


def test_a_review_with_an_empty_we_did_for_one_concern_publishes_nothing(app, as_role):
    task, speeding, dogs = speeding_task_answering_two_concerns()
    officer = as_role("officer")
    response = officer.post(f"/tasks/{task.id}/review", {
        "version": str(task.version_id), f"we_did_{speeding.id}": "Speed checks", f"we_did_{dogs.id}": " "})
    assert response.status_code == 400
    assert ("Enter the 'We did' residents will read for the environmental - dog fouling concern in Wem"
            in text_of(response).replace("&#39;", "'"))
    assert f'href="#we_did_{dogs.id}"' in response.get_data(as_text=True)
    for concern in (task, speeding, dogs):
        db.session.refresh(concern)
        assert not concern.published
    assert speeding.status == "accepted" and speeding.we_did == ""
