"""The Celery wiring, proved with a real worker process against Redis and PostgreSQL."""
import pytest

from portal.maintenance import count_rows

pytestmark = pytest.mark.worker


def test_a_real_worker_counts_the_seeded_rows(worker_app):
    celery = worker_app.extensions["celery"]
    assert not celery.conf.task_always_eager
    result = celery.tasks["maintenance.count_rows"].delay()
    counted = result.get(timeout=60)
    assert counted == count_rows()
    assert counted["localities"] > 60 and counted["plan_actions"] > 0


def test_the_seed_loader_runs_as_a_task_and_is_idempotent(worker_app):
    celery = worker_app.extensions["celery"]
    created = celery.tasks["maintenance.load_seed"].delay().get(timeout=120)
    assert set(created.values()) == {0}


def test_overdue_reminders_through_the_worker_are_sent_once_a_day(worker_app):
    from datetime import date, timedelta

    from sqlalchemy import select

    from portal.extensions import db
    from portal.notifications.models import OutboxMessage
    from portal.people.models import User
    from portal.places.models import Locality
    from portal.tasking.services import create_task

    officer = db.session.execute(select(User).filter_by(role="officer")).scalars().first()
    partner = db.session.execute(select(User).filter_by(role="partner")).scalars().first()
    task = create_task(by=officer, title="Worker reminder test", problem="Overdue on purpose",
                       locality_id=db.session.execute(select(Locality.id).filter_by(key="wem")).scalar_one(),
                       lead_organisation_id=partner.organisation_id, owner_id=partner.id,
                       due_on=date(2010, 1, 4), today=date(2010, 1, 1))
    db.session.commit()
    celery = worker_app.extensions["celery"]
    day = (date.today() + timedelta(days=1)).isoformat()
    first = celery.tasks["notifications.overdue_reminders"].delay(day).get(timeout=60)
    second = celery.tasks["notifications.overdue_reminders"].delay(day).get(timeout=60)
    assert first >= 1 and second == 0
    db.session.expire_all()
    sent = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.dedupe_key == f"overdue:{task.id}:{day}")).scalars().all()
    assert len(sent) == 1 and sent[0].to_email == partner.email
