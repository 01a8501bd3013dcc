"""Where corrections meet the review loop: a withdrawal stays withdrawn until someone means to undo it,
a redaction reaches every copy the loop made, and a task edited after publication is listed once."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.concerns import corrections
from portal.concerns import services as concern_services
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking import task_details, task_list
from portal.tasking import tasks as task_services
from portal.tasking.models import TaskUpdate

from ..conftest import text_of
from ..factories import completed, new_concern, new_task, one, user


def _published(task):
    task_services.review_and_publish(task, by=user("officer"), version=task.version_id)
    db.session.commit()
    db.session.refresh(task)
    return task


def _edited_we_did(task, text):
    task_services.update_task(task, by=user("partner"), version=task.version_id, we_did=text)
    db.session.commit()
    db.session.refresh(task)
    return task


def test_publish_all_reviewed_leaves_a_withdrawn_concern_withdrawn(app, as_role):
    officer = user("officer")
    wem = one(Locality, key="wem")
    meeting = concern_services.record_pact_meeting(
        by=officer, locality_id=wem.id, held_on=date.today() - timedelta(days=1), venue="Wem", attendance=5,
        partner_ids=[], notes="", items=[concern_services.ConcernInput(
            category_id=new_concern().category_id, you_said="Cars race past the school", locality_id=wem.id)])
    concern = meeting.concerns[0]
    concern_services.change_status(concern, "responded", by=officer, we_did="Speed checks at school times")
    concern_services.publish(concern, by=officer)
    corrections.withdraw(concern, by=officer, reason="Names a resident; awaiting advice")
    db.session.commit()

    browser = as_role("officer")
    assert "Reviewed, not yet published" not in text_of(browser.get(f"/concerns/meetings/{meeting.id}"))
    browser.post(f"/concerns/meetings/{meeting.id}/publish-reviewed", {"concerns": [str(concern.id)]})
    db.session.refresh(concern)
    assert not concern.published
    # its own "Publish to residents again" still puts it back
    concern_services.publish(concern, by=officer)
    db.session.commit()
    assert concern.published and concern.withdrawn == ""


def test_a_second_review_republishes_what_the_task_withdrew_but_not_what_a_concern_page_withdrew(app):
    officer = user("officer")
    mine, other = new_concern(said="Youths at the park"), new_concern(said="Youths at the shops")
    task = task_services.create_task(
        by=officer, title="Youths gathering", problem="Gatherings most nights", locality_id=mine.locality_id,
        lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
        due_on=date.today() + timedelta(days=14), concern_ids=[mine.id, other.id])
    db.session.commit()
    task = _published(completed(task, "Youth club on Fridays"))
    corrections.withdraw(other, by=officer, reason="Legal hold on this one")
    db.session.commit()
    task = _published(_edited_we_did(task, "Youth club on Fridays and Saturdays"))
    db.session.refresh(mine)
    db.session.refresh(other)
    assert mine.published and mine.we_did == "Youth club on Fridays and Saturdays"
    assert not other.published  # withdrawn on its own page: stays withdrawn

    from portal.tasking import corrections as task_corrections

    task_corrections.withdraw_we_did(task, by=officer, reason="Wrong answer published")
    db.session.commit()
    db.session.refresh(task)
    _published(_edited_we_did(task, "Youth club on three nights"))
    db.session.refresh(mine)
    assert mine.published and mine.we_did == "Youth club on three nights"


def test_a_redaction_reaches_the_task_logs_edited_texts_and_the_partner_page(app, as_role):
    officer = user("officer")
    concern = new_concern(said="Jo Bloggs of 4 Mill Lane shouts at night")
    task = _published(completed(new_task(concern), "Spoke to Jo Bloggs"))
    task = _published(_edited_we_did(task, "Spoke to Jo Bloggs twice"))
    corrections.redact(concern, by=officer, field="we_did", text="Jo Bloggs")
    db.session.commit()
    rows = db.session.execute(select(TaskUpdate.text, TaskUpdate.old_value, TaskUpdate.new_value)
                              .where(TaskUpdate.task_id == task.id)).all()
    assert rows and not [row for row in rows if any("Jo Bloggs" in (value or "") for value in row)]
    assert "Jo Bloggs" not in text_of(as_role("partner").get(f"/tasks/{task.id}"))


def test_an_organisation_taken_off_a_task_is_told_with_a_link_and_a_redaction_reaches_that_message(app):
    officer = user("officer")
    concern = new_concern(said="Jo Bloggs shouts in the street")
    task = task_services.create_task(
        by=officer, title="Jo Bloggs shouting", problem="Shouting", locality_id=concern.locality_id,
        lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
        due_on=date.today() + timedelta(days=9), concern_ids=[concern.id])
    fire = one(Organisation, name="Shropshire Fire and Rescue Service")
    firefighter = User(email="station@fire.example.org", display_name="Fi Fighter", role="partner", organisation=fire)
    firefighter.set_password("a long enough pass phrase")
    db.session.add(firefighter)
    db.session.commit()
    for supporting in ([fire.id], []):
        db.session.refresh(task)
        task_details.change_task_details(task, by=officer, version=task.version_id, due_on=task.due_on,
                                          owner_id=task.owner_id, lead_organisation_id=task.lead_organisation_id,
                                          supporting_ids=supporting, priority=task.priority)
        db.session.commit()
    told = db.session.execute(select(OutboxMessage).where(OutboxMessage.to_user_id == firefighter.id,
                                                          OutboxMessage.subject.like("%no longer%"))).scalar_one()
    assert "http://" in told.body or "https://" in told.body

    corrections.redact(concern, by=officer, field="you_said", text="Jo Bloggs")
    db.session.commit()
    assert [m.subject for m in db.session.execute(select(OutboxMessage)).scalars()
            if "Jo Bloggs" in m.subject + m.body] == []


def test_a_task_edited_after_publication_is_listed_once_awaiting_review(app):
    task = _edited_we_did(_published(completed(new_task(new_concern()), "Youth club")), "Youth club weekly")
    groups = [(key, [t.id for t in tasks]) for key, _, tasks, _ in task_list.task_page(user("officer")).groups]
    assert [key for key, ids in groups if task.id in ids] == ["review"]
