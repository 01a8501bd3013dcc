"""Through a real Celery worker and a small SMTP server: the confirmation link, one digest however often the
job runs, its List-Unsubscribe header as the mail server sees it, and the one-click unsubscribe."""
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.following.models import Follower
from portal.models import utcnow
from portal.notifications.models import OutboxMessage

from ..conftest import Browser
from ..tasking.test_review_loop import mail_sink, wait_for  # noqa: F401  (mail_sink is a fixture)
from .test_following import MARK, meeting_in, published_in

PORTAL = "https://safety.shropshire.example"


@pytest.mark.worker
def test_through_a_real_worker_a_follower_gets_one_digest_with_a_one_click_unsubscribe(
        worker_database, worker_redis_url, mail_sink, monkeypatch, tmp_path):  # noqa: F811
    from portal import create_app
    from portal.config import TestConfig

    from ..conftest import start_worker, stop_worker

    queue = f"follow-{uuid.uuid4().hex[:8]}"
    for name, value in (("MAIL_SERVER", "127.0.0.1"), ("MAIL_PORT", str(mail_sink.server_address[1])),
                        ("MAIL_USE_TLS", "0"), ("PORTAL_URL", PORTAL), ("SECRET_KEY", TestConfig().SECRET_KEY)):
        # The worker's settings, as production gives them: one SECRET_KEY, so the web process accepts
        # the unsubscribe link the worker signed.
        monkeypatch.setenv(name, value)
    worker = start_worker(worker_database, worker_redis_url, queue, tmp_path / "worker.log")
    app = create_app(TestConfig(database_url=worker_database, redis_url=worker_redis_url))
    app.config.update(PORTAL_URL=PORTAL, MAIL_SERVER=None)  # the web process only writes to the outbox
    celery = app.extensions["celery"]
    celery.conf.task_default_queue = queue
    celery.set_current()
    celery.set_default()
    email = f"follower-{uuid.uuid4().hex[:8]}@example.org"
    try:
        with app.app_context():
            # The worker's database is shared by the session's worker tests: only this test's mail goes out,
            # and only this test's follower is due a digest.
            db.session.execute(OutboxMessage.__table__.update().where(OutboxMessage.sent_at.is_(None))
                               .values(error="left by an earlier test"))
            db.session.execute(Follower.__table__.delete())
            db.session.commit()
            resident = Browser(app)
            resident.get("/places/wem/follow")
            assert resident.post("/places/wem/follow", {"email": email}).status_code == 302  # enqueues delivery
            [confirm] = wait_for(mail_sink, "Confirm updates for Wem")
            assert confirm["to"] == [email]
            link = next(w for w in confirm["text"].split() if w.startswith(f"{PORTAL}/follow/confirm/"))
            resident.get(urlsplit(link).path)
            assert resident.post(urlsplit(link).path).status_code == 200

            said = f"Worker digest {uuid.uuid4().hex[:6]}"
            concern = published_in("wem", said, "Speed checks on Noble Street every week")
            meeting_in("wem", date.today() + timedelta(days=12), "Wem Town Hall")
            now = (utcnow() + timedelta(seconds=1)).isoformat()
            counts = [celery.tasks["following.send_digests"].delay(now).get(timeout=60) for _ in range(2)]
            assert counts == [1, 0]
            [digest] = wait_for(mail_sink, said)
            assert digest["to"] == [email] and MARK not in digest["text"]
            assert f"{PORTAL}/places/wem#concern-{concern.id}" in digest["text"]
            unsubscribe = digest["headers"]["List-Unsubscribe"]
            assert unsubscribe.startswith(f"<{PORTAL}/follow/unsubscribe/") and unsubscribe.endswith(">")
            assert digest["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert len([m for m in mail_sink.received if said in m["text"]]) == 1

            # The mail app's one click: a POST with RFC 8058's body, no cookie, no CSRF token.
            mail_app = Browser(app)
            response = mail_app.post(urlsplit(unsubscribe.strip("<>")).path, {"List-Unsubscribe": "One-Click"},
                                     csrf=False)
            assert response.status_code == 200
            db.session.expire_all()
            assert db.session.execute(select(Follower).filter_by(email=email)).first() is None
            db.session.remove()
            db.engine.dispose()
    finally:
        stop_worker(worker)
