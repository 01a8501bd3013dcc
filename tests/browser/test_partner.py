"""A partner agency member works on a task; the officer answers each of its concerns."""
from datetime import date

from portal.extensions import db
from portal.places.models import Locality

from .conftest import serious_violations, shot, sign_in, with_axe


def test_a_partner_moves_a_due_date_and_an_officer_answers_each_concern_of_the_task(app, live_server, page):
    from datetime import timedelta

    from portal.tasking import tasks
    from portal.tasking.models import Task

    from ..factories import new_concern, one, user

    speeding = new_concern(said="Cars racing down the High Street", name="VEHICLE RELATED - SPEEDING TRAFFIC")
    dogs = new_concern(said="Dog mess by the school gate", name="ENVIRONMENTAL - DOG FOULING")
    task = tasks.create_task(by=user("officer"), title="Speeding on the High Street", problem="Speeding",
                             locality_id=one(Locality, key="wem").id, owner_id=user("partner").id,
                             lead_organisation_id=user("partner").organisation_id,
                             due_on=date.today() + timedelta(days=14), concern_ids=[speeding.id, dogs.id])
    db.session.commit()
    task_id, later = task.id, date.today() + timedelta(days=30)

    with_axe(page)
    sign_in(page, live_server, "partner")
    page.goto(f"{live_server}/tasks/{task_id}")
    page.click("a:has-text('Change task details')")
    page.fill("#due_on-day", str(later.day))
    page.fill("#due_on-month", str(later.month))
    page.fill("#due_on-year", str(later.year))
    page.click("button:has-text('Save changes')")
    assert "Give the reason for the new due date" in page.inner_text(".govuk-error-summary")
    assert serious_violations(page) == []
    page.click(".govuk-error-summary a:has-text('Give the reason')")
    page.keyboard.type("waiting for CCTV")
    page.click("button:has-text('Save changes')")
    page.wait_for_selector(".govuk-notification-banner")
    assert f"to {later.day} {later:%b %Y}: waiting for CCTV" in page.inner_text("main")
    shot(page, "task-due-date-moved")

    db.session.expire_all()
    task = db.session.get(Task, task_id)
    tasks.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                      assessment="Fewer complaints", we_did="Speed checks twice a week")
    db.session.commit()
    page.context.clear_cookies()
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/tasks/{task_id}")
    assert page.input_value(f"#we_did_{dogs.id}") == "Speed checks twice a week"
    assert serious_violations(page) == []
    page.fill(f"#we_did_{dogs.id}", "Dog wardens patrolled the school gate at home time")
    page.click("button:has-text('Approve and publish')")
    page.wait_for_selector(".govuk-notification-banner")
    page.goto(f"{live_server}/api/concerns/{dogs.id}.json")
    assert "Dog wardens patrolled the school gate at home time" in page.inner_text("body")
    page.goto(f"{live_server}/api/concerns/{speeding.id}.json")
    assert "Speed checks twice a week" in page.inner_text("body")
    assert page.errors == []


