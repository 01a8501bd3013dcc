"""The beat job that tells the PMCG distribution list a pack is issued, through a real worker and SMTP."""
import uuid

import pytest
from sqlalchemy import delete, select

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.pack import services
from portal.pack.models import IssuedPack
from portal.people.models import User

from ..conftest import DEMO_EMAILS, start_worker, stop_worker
from ..tasking.test_review_loop import PORTAL, mail_sink, wait_for  # noqa: F401  (mail_sink: a fixture)
from .test_pack import NOV

pytestmark = pytest.mark.worker
DISTRIBUTION = "chair.pmcg@shropshire.example; Analyst.Team@shropshire.example, chair.pmcg@shropshire.example"


def test_the_distribution_list_is_sent_one_link_per_issued_pack_through_a_real_worker(
        worker_database, worker_redis_url, mail_sink, monkeypatch, tmp_path):  # noqa: F811
    queue = f"pack-{uuid.uuid4().hex[:8]}"
    for name, value in (("MAIL_SERVER", "127.0.0.1"), ("MAIL_PORT", str(mail_sink.server_address[1])),
                        ("MAIL_USE_TLS", "0"), ("PORTAL_URL", PORTAL), ("PMCG_DISTRIBUTION", DISTRIBUTION)):
        monkeypatch.setenv(name, value)  # the worker's settings, as production gives them
    worker = start_worker(worker_database, worker_redis_url, queue, tmp_path / "worker.log")
    app = create_app(TestConfig(database_url=worker_database, redis_url=worker_redis_url))
    celery = app.extensions["celery"]
    celery.conf.task_default_queue = queue
    celery.set_current()
    celery.set_default()
    try:
        with app.app_context():
            # The worker's database is shared by the session's worker tests: start from no pack for the month.
            db.session.execute(delete(IssuedPack).where(IssuedPack.month == NOV))
            db.session.execute(OutboxMessage.__table__.update().where(OutboxMessage.sent_at.is_(None))
                               .values(error="left by an earlier test"))
            analyst = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["analyst"])).scalar_one()
            pack = services.issue_pack(by=analyst, month=NOV)
            db.session.commit()

            announce = celery.tasks["pack.announce_issued"]
            assert announce.delay().get(timeout=120) == 2  # two addresses (one was listed twice)
            received = wait_for(mail_sink, "PMCG pack for November 2018 issued")
            assert sorted(r for m in received for r in m["to"]) == [
                "Analyst.Team@shropshire.example", "chair.pmcg@shropshire.example"]
            assert f"{PORTAL}/pack/issued/{pack.id}.pdf" in received[0]["text"]
            assert announce.delay().get(timeout=120) == 0  # beat runs again: nothing new is sent
            db.session.expire_all()
            messages = db.session.execute(select(OutboxMessage).filter_by(kind="pmcg_pack")
                                          .where(OutboxMessage.body.contains(f"/pack/issued/{pack.id}.pdf"))).scalars().all()
            assert len(messages) == 2 and all(m.sent_at is not None for m in messages)
            assert len([m for m in mail_sink.received if "PMCG pack" in m["text"]]) == 2
            assert db.session.get(IssuedPack, pack.id).notified_at is not None
            db.session.execute(delete(IssuedPack).where(IssuedPack.id == pack.id))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        stop_worker(worker)

