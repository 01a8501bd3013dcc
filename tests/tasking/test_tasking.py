"""Bronze tasking: concern -> meeting -> task -> partner updates -> assessment -> published "We did"."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking import tasks as services
from portal.tasking.models import Task, TaskingMeeting, TaskUpdate

from ..conftest import DEMO_EMAILS, Browser, text_of
from ..factories import new_concern, new_task, one, plan_action, user

FUTURE = (date.today() + timedelta(days=21)).strftime("%d/%m/%Y")


def test_the_whole_workflow_from_concern_to_published_we_did(app, as_role):
    concern = new_concern()
    officer, partner = as_role("officer"), as_role("partner")
    north = one(Locality, key="north")
    response = officer.post("/tasking/meetings/new", {"area": str(north.id),
                                                      "held_on": date.today().strftime("%d/%m/%Y"),
                                                      "attendees": [str(user("partner").organisation_id)]})
    assert response.status_code == 302
    meeting = db.session.execute(select(TaskingMeeting)).scalars().one()
    item = next(i for i in meeting.items if i.concern_id == concern.id)
    assert item.kind == "new_concern" and "Youths gathering at the recreation ground" in item.summary
    response = officer.post(f"/tasking/meetings/{meeting.id}/items/{item.id}", {
        "decision": "create_task", "title": "Youths at Wem recreation ground", "action": str(plan_action().id),
        "lead_organisation": str(user("partner").organisation_id), "owner": str(user("partner").id),
        "due_on": FUTURE})
    assert response.status_code == 302, text_of(response)[-1500:]
    task = one(Task, title="Youths at Wem recreation ground")
    db.session.refresh(concern)
    assert concern.status == "accepted" and task.concerns == [concern]
    assert db.session.execute(
        select(OutboxMessage).filter_by(to_email=DEMO_EMAILS["partner"], kind="assigned")).scalar_one()

    workspace = text_of(partner.get("/tasks/"))
    assert "My organisation's tasks" in workspace and "Youths at Wem recreation ground" in workspace

    def save(browser, **data):
        db.session.refresh(task)
        fields = {"version": str(task.version_id), "stage": task.stage, "status": task.status}
        return browser.post(f"/tasks/{task.id}/update", fields | data)

    assert save(partner, stage="analysis", text="Spoke to residents and the youth service").status_code == 302
    assert save(partner, stage="response", victim="Older residents near the park", location="Recreation ground",
                text="Youth service running Friday sessions").status_code == 302
    assert save(partner, status="completed", assessment="Calls about the park fell from 12 to 2 a month",
                we_did="A Friday youth club started and patrols were increased").status_code == 302
    db.session.refresh(task)
    assert task.status == "completed" and task.stage == "assessment" and not task.published
    assert officer.post(f"/tasks/{task.id}/review", {"version": str(task.version_id)}).status_code == 302
    db.session.refresh(concern)
    assert concern.status == "responded" and concern.published
    assert concern.we_did == "A Friday youth club started and patrols were increased"
    public = Browser(app).get(f"/api/concerns/{concern.id}.json").get_json()
    assert public["we_did"] == "A Friday youth club started and patrols were increased"
    log = [u.by.display_name for u in db.session.execute(select(TaskUpdate).filter_by(task_id=task.id)).scalars()]
    assert log.count("Pat Partner") == 3 and log[0] == "PC Olivia Officer"


def test_partners_see_and_update_only_their_organisations_tasks(app, as_role):
    concern = new_concern()
    task = new_task(concern)
    other_org = one(Organisation, name="Shropshire Fire and Rescue Service")
    stranger = User(email="fire.officer@example.org", display_name="Fiona Fire", role="partner", organisation=other_org)
    stranger.set_password("a-long-enough-password")
    db.session.add(stranger)
    db.session.commit()
    fire = Browser(app).sign_in("fire.officer@example.org", "a-long-enough-password")
    assert fire.get(f"/tasks/{task.id}").status_code == 403
    assert fire.post(f"/tasks/{task.id}/update", {"version": "1", "text": "x"}).status_code == 403
    assert fire.get(f"/concerns/{concern.id}").status_code == 403
    assert "Youths at the recreation ground" not in text_of(fire.get("/tasks/"))
    partner = as_role("partner")
    concern_page = text_of(partner.get(f"/concerns/{concern.id}"))
    assert "Caller lives at 4 Mill Lane" in concern_page  # on their task: they may read its notes
    analyst = as_role("analyst")
    assert analyst.get(f"/tasks/{task.id}").status_code == 200
    assert analyst.post(f"/tasks/{task.id}/update", {"version": "1", "text": "x"}).status_code == 403
    task.supporting_organisations.append(other_org)
    db.session.commit()
    assert fire.get(f"/tasks/{task.id}").status_code == 200


def test_two_partners_saving_at_once_lose_nothing(app, as_role):
    task = new_task()
    colleague = User(email="second.rsl@example.org", display_name="Sam Second", role="partner",
                     organisation_id=user("partner").organisation_id)
    colleague.set_password("a-long-enough-password")
    db.session.add(colleague)
    db.session.commit()
    first, second = as_role("partner"), Browser(app).sign_in("second.rsl@example.org", "a-long-enough-password")
    for person in (first, second):
        person.get(f"/tasks/{task.id}")
    version = str(task.version_id)
    base = {"version": version, "stage": "scanning", "status": "open"}
    assert first.post(f"/tasks/{task.id}/update",
                      base | {"text": "Met the school about home-time parking"}).status_code == 302
    response = second.post(f"/tasks/{task.id}/update", base | {"text": "Letter drop done on Mill Lane"})
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone saved this task after you opened it: Pat Partner" in page
    assert "Met the school about home-time parking" in page and "Letter drop done on Mill Lane" in page
    fresh = re.search(r'name="version" type="hidden" value="(\d+)"', response.get_data(as_text=True)).group(1)
    assert second.post(f"/tasks/{task.id}/update", base | {"version": fresh, "text": "Letter drop done on Mill Lane"}
                       ).status_code == 302
    texts = [u.text for u in db.session.execute(select(TaskUpdate).filter_by(task_id=task.id)).scalars()]
    assert "Met the school about home-time parking" in texts and "Letter drop done on Mill Lane" in texts


@pytest.mark.parametrize("case", ["past due", "owner outside lead", "empty title"])
def test_bad_new_tasks_are_refused_with_a_message_and_nothing_saved(app, as_role, case):
    officer = as_role("officer")
    data = {"title": "Parking at the school", "problem": "Cars on the zig-zags",
            "locality": str(one(Locality, key="wem").id),
            "lead_organisation": str(user("partner").organisation_id), "owner": str(user("partner").id),
            "due_on": FUTURE, "priority": "high", "action": str(plan_action().id)}
    expected = {"past due": ("due_on", (date.today() - timedelta(days=1)).strftime("%d/%m/%Y"),
                             "The due date must be today or later"),
                "owner outside lead": ("owner", str(user("officer").id),
                                       "The owner must work for the lead partner, Registered Social Landlords"),
                "empty title": ("title", "", "Enter a title for the task")}[case]
    before = db.session.execute(select(func.count()).select_from(Task)).scalar_one()
    response = officer.post("/tasks/new", data | {expected[0]: expected[1]})
    assert response.status_code == 400
    assert expected[2] in text_of(response)
    assert db.session.execute(select(func.count()).select_from(Task)).scalar_one() == before


@pytest.mark.parametrize("case", ["skip analysis", "response without analysis", "complete without we did",
                                  "blocked without reason"])
def test_bad_task_updates_are_refused_and_change_nothing(app, as_role, case):
    task = new_task()
    partner = as_role("partner")
    if case in ("response without analysis", "complete without we did"):
        services.update_task(task, by=user("partner"), version=task.version_id, stage="analysis", text="Looked")
        db.session.commit()
    db.session.refresh(task)
    base = {"version": str(task.version_id), "stage": task.stage, "status": task.status}
    data, message = {
        "skip analysis": ({"stage": "response"},
                          "A task moves one SARA stage at a time: from Scanning the next is Analysis"),
        "response without analysis": ({"stage": "response"},
                                      "Record the analysis (victim, offender or location) before moving to Response"),
        "complete without we did": ({"status": "completed", "assessment": "Fewer calls", "we_did": ""},
                                    "Completing a task needs the public 'We did' statement"),
        "blocked without reason": ({"status": "blocked"}, "Say what is blocking the task"),
    }[case]
    updates = len(task.updates)
    response = partner.post(f"/tasks/{task.id}/update", base | data)
    assert response.status_code == 400
    assert message in text_of(response).replace("&#39;", "'")
    db.session.refresh(task)
    assert len(task.updates) == updates and task.assessment == ""


def test_a_closed_meeting_record_is_final_and_takes_corrections(app, as_role):
    new_concern()
    new_concern(said="Litter after the market", name="ENVIRONMENTAL - LITTER")
    officer = as_role("officer")
    north = one(Locality, key="north")
    officer.post("/tasking/meetings/new", {"area": str(north.id), "held_on": date.today().strftime("%d/%m/%Y")})
    meeting = db.session.execute(select(TaskingMeeting)).scalars().one()
    first, second = meeting.items[0], meeting.items[1]
    assert officer.post(f"/tasking/meetings/{meeting.id}/items/{first.id}",
                        {"decision": "no_further_action", "note": "Already handled by the school"}).status_code == 302
    assert officer.post(f"/tasking/meetings/{meeting.id}/close").status_code == 302
    response = officer.post(f"/tasking/meetings/{meeting.id}/items/{second.id}", {"decision": "noted"})
    assert response.status_code == 400
    assert "This meeting is closed and its record cannot change" in text_of(response)
    assert officer.post(f"/tasking/meetings/{meeting.id}/corrections",
                        {"text": "Item 1: the school is Wem Junior, not Wem Infants"}).status_code == 302
    rows = list(csv.reader(io.StringIO(
        officer.get(f"/tasking/meetings/{meeting.id}/record.csv").get_data(as_text=True))))
    assert rows[1][3] == "No further action" and rows[1][4] == "Already handled by the school"
    assert rows[-1][1] == "Correction" and "Wem Junior" in rows[-1][2]
    db.session.refresh(second)
    assert second.decision is None


def test_an_officer_of_another_area_cannot_chair_or_decide(app, as_role):
    officer = as_role("officer")
    south = one(Locality, key="south")
    response = officer.post("/tasking/meetings/new",
                            {"area": str(south.id), "held_on": date.today().strftime("%d/%m/%Y")})
    assert response.status_code == 400
    assert db.session.execute(select(func.count()).select_from(TaskingMeeting)).scalar_one() == 0


def test_an_update_by_another_organisation_notifies_the_task_partners(app, as_role):
    task = new_task()
    officer = as_role("officer")  # West Mercia Police; the task is led by Registered Social Landlords
    db.session.refresh(task)
    officer.post(f"/tasks/{task.id}/update", {"version": str(task.version_id), "stage": "scanning", "status": "open",
                                              "text": "Extra patrols booked for Friday"})
    message = db.session.execute(
        select(OutboxMessage).filter_by(kind="update", to_email=DEMO_EMAILS["partner"])).scalar_one()
    assert "Extra patrols booked for Friday" in message.body
    assert "Extra patrols booked for Friday" in text_of(as_role("admin").get("/admin/outbox"))


def test_the_workspace_lists_overdue_tasks_first(app, as_role):
    new_task(due=date.today() - timedelta(days=5))
    later = new_task()
    later.title = "A later task"
    db.session.commit()
    page = text_of(as_role("partner").get("/tasks/"))
    assert page.index("Overdue Task Lead") < page.index("Open Task Lead") < page.index("A later task")


def test_reminders_and_digests_are_sent_once_however_often_they_run(app):
    from portal.tasking.reminders import overdue_reminders, weekly_digest

    task = new_task(due=date.today() - timedelta(days=2))
    assert overdue_reminders() == 1
    assert overdue_reminders() == 0
    assert weekly_digest() >= 1 and weekly_digest() == 0
    reminders = db.session.execute(select(OutboxMessage).filter_by(kind="overdue")).scalars().all()
    assert [m.to_email for m in reminders] == [task.owner.email]



@pytest.mark.both_databases
def test_a_partners_list_walked_page_by_page_shows_each_task_it_leads_or_supports_once(app, backend):
    """The list reads a partner's led and supported tasks separately (each from its own index): walked by
    its Next positions it still shows each of them once, a task it both leads and supports included."""
    from portal.tasking.task_list import task_page

    partner = user("partner")
    other = db.session.execute(select(Organisation).where(Organisation.id != partner.organisation_id)
                               .order_by(Organisation.id)).scalars().first()
    led = [new_task(due=date.today() + timedelta(days=3 + i)) for i in range(5)]
    theirs = [new_task(owner_role="officer") for _ in range(4)]
    for task in theirs:
        task.lead_organisation_id = other.id
    theirs[0].supporting_organisations.append(db.session.get(Organisation, partner.organisation_id))
    theirs[1].supporting_organisations.append(db.session.get(Organisation, partner.organisation_id))
    led[0].supporting_organisations.append(db.session.get(Organisation, partner.organisation_id))  # both
    led[1].status = "in_progress"
    db.session.commit()
    expected = {t.id for t in db.session.execute(select(Task)).scalars()
                if t.lead_organisation_id == partner.organisation_id
                or partner.organisation_id in {o.id for o in t.supporting_organisations}}
    shown, after = [], None
    while True:
        page = task_page(partner, after=after, per_page=2)
        shown += [t.id for _, _, tasks, _ in page.groups for t in tasks]
        if not page.next:
            break
        after = page.next
    assert sorted(shown) == sorted(expected) and len(shown) == len(set(shown))
    assert {theirs[0].id, theirs[1].id} <= set(shown) and not {theirs[2].id, theirs[3].id} & set(shown)
