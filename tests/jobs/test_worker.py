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
    from portal.tasking.tasks import create_task

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


def _crime_values():
    from sqlalchemy import text

    from portal.extensions import db

    db.session.expire_all()
    return db.session.execute(text(
        "SELECT COUNT(*), SUM(numerator), MAX(computed_at) FROM indicator_values WHERE indicator_id IN "
        "(SELECT id FROM indicator_definitions WHERE source = 'police_crime')")).one()


def test_a_rollup_through_the_worker_is_idempotent(worker_app):
    celery = worker_app.extensions["celery"]
    first = celery.tasks["indicators.rollup"].delay("2018-10-01", "2018-11-01", ["police_crime"]).get(timeout=120)
    count, total, _ = _crime_values()
    second = celery.tasks["indicators.rollup"].delay("2018-10-01", "2018-11-01", ["police_crime"]).get(timeout=120)
    assert first == second and _crime_values()[:2] == (count, total) and count > 1000


def test_a_worker_killed_mid_rollup_leaves_the_previous_values_and_a_rerun_completes(
        worker_app, worker_redis_url, celery_worker_process, tmp_path):
    import signal
    import time
    import uuid

    from ..conftest import start_worker

    celery = worker_app.extensions["celery"]
    celery.tasks["indicators.rollup"].delay("2018-10-01", "2018-11-01", ["police_crime"]).get(timeout=120)
    before = _crime_values()
    queue = f"doomed-{uuid.uuid4().hex[:6]}"
    doomed = start_worker(celery_worker_process["database_url"], worker_redis_url, queue, tmp_path / "doomed.log")
    result = celery.tasks["indicators.rollup"].apply_async(
        ("2018-10-01", "2018-11-01", ["police_crime"], 60), queue=queue)
    deadline = time.monotonic() + 60
    while result.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert result.state == "STARTED"
    time.sleep(2)  # inside the unit of work: old values deleted, new ones inserted, not committed
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert _crime_values() == before  # nothing half-done is visible, the old values are intact
    rerun = celery.tasks["indicators.rollup"].delay("2018-10-01", "2018-11-01", ["police_crime"]).get(timeout=120)
    after = _crime_values()
    assert after[:2] == before[:2] and after[2] >= before[2] and rerun["police_crime"] == before[0]


def test_overlapping_rollups_on_two_workers_all_succeed_and_agree(worker_app, worker_redis_url,
                                                                   celery_worker_process, tmp_path):
    """Beat's rollup, an import's rollup and a second upload's, at once on two workers: none fails,
    and the values are those of one rollup run alone."""
    from ..conftest import start_worker, stop_worker

    celery = worker_app.extensions["celery"]
    rollup = celery.tasks["indicators.rollup"]
    rollup.delay("2018-10-01", "2018-11-01", ["police_crime"]).get(timeout=120)
    alone = _crime_values()[:2]
    second = start_worker(celery_worker_process["database_url"], worker_redis_url, celery_worker_process["queue"],
                          tmp_path / "second.log")
    try:
        # Each holds its transaction open a moment so that they overlap.
        jobs = [rollup.delay(*args, 1) for args in (
            ("2018-10-01", "2018-11-01", ["police_crime"]), ("2018-11-01", "2018-11-01", ["police_crime"]),
            ("2018-10-01", "2018-10-01", ["police_crime", "manual"]), (None, None, ["police_crime", "portal"]))]
        results = [job.get(timeout=180) for job in jobs]
    finally:
        stop_worker(second)
    assert all("police_crime" in r for r in results)
    assert _crime_values()[:2] == alone


# ---- police.uk imports survive a lost worker -------------------------------------------------------------

def _police_file(tmp_path, month, n=40):
    """Real police.uk rows moved to a month no other test holds, so the shared worker database keeps its data."""
    import csv

    from portal.config import ROOT

    with open(ROOT / "seed" / "police" / "2018-10-west-mercia-street.csv", newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    rows = [[r[0], month] + r[2:] for r in rows[:n]]
    path = tmp_path / f"{month}-west-mercia-street.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + rows)
    return path, len(rows)


def _held_upload(worker_app, path, queue, hold_seconds):
    """An analyst's upload, enqueued as the upload page does, held mid-file by the worker that takes it first."""
    from sqlalchemy import select

    from portal.crime import uploads
    from portal.extensions import db
    from portal.people.models import User

    analyst = db.session.execute(select(User).filter_by(role="analyst")).scalars().first()
    upload = uploads.new_upload([str(path)], path.name, by=analyst)
    db.session.commit()
    worker_app.extensions["celery"].tasks["crime.import"].apply_async(
        ([str(path)],), {"user_id": analyst.id, "upload_id": upload.id, "hold_seconds": hold_seconds},
        task_id=upload.task_id, queue=queue)
    return upload.id


def _wait_for(analyst, upload_id, state, seconds):
    import time

    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        status = analyst.get(f"/crime/imports/{upload_id}.json").get_json()
        if status["state"] == state:
            return status
        time.sleep(0.3)
    raise AssertionError(f"the import was not {state} after {seconds} s: {status}")


def test_an_import_whose_worker_is_killed_is_redelivered_to_another_worker_and_completes(
        worker_app, worker_redis_url, celery_worker_process, tmp_path, monkeypatch):
    import signal
    import time
    import uuid

    from sqlalchemy import func, select

    from portal.crime.models import CrimeRecord
    from portal.extensions import db

    from ..conftest import Browser, start_worker, stop_worker, text_of

    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "4")  # the workers' broker gives a lost job back after 4 s
    database_url = celery_worker_process["database_url"]
    queue = f"imports-{uuid.uuid4().hex[:6]}"
    path, rows = _police_file(tmp_path, "2016-01")
    analyst = Browser(worker_app).sign_in("analyst@demo.shropshire-csp.example.org")
    doomed = start_worker(database_url, worker_redis_url, queue, tmp_path / "doomed.log")
    upload_id = _held_upload(worker_app, path, queue, hold_seconds=120)
    _wait_for(analyst, upload_id, "running", 60)
    time.sleep(1)  # inside the file: rows read, nothing committed
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    killed_at = time.monotonic()
    assert "Working" in text_of(analyst.get(f"/crime/imports/{upload_id}"))

    second = start_worker(database_url, worker_redis_url, queue, tmp_path / "second.log")
    try:
        status = _wait_for(analyst, upload_id, "done", 60)
    finally:
        stop_worker(second)
    assert time.monotonic() - killed_at < 60
    assert status["rows"] == rows
    assert f"Done: {rows:,} rows imported" in text_of(analyst.get(f"/crime/imports/{upload_id}"))
    db.session.expire_all()
    from datetime import date

    assert db.session.execute(select(func.count()).select_from(CrimeRecord).where(
        CrimeRecord.month == date(2016, 1, 1))).scalar_one() == rows  # imported once, not twice


def test_an_import_whose_worker_is_lost_is_shown_failed_and_its_retry_completes(
        worker_app, worker_redis_url, celery_worker_process, tmp_path):
    import signal
    import uuid
    from datetime import date

    from sqlalchemy import func, select

    from portal.crime.models import CrimeRecord
    from portal.extensions import db

    from ..conftest import Browser, start_worker, text_of

    queue = f"imports-{uuid.uuid4().hex[:6]}"
    path, rows = _police_file(tmp_path, "2016-02")
    analyst = Browser(worker_app).sign_in("analyst@demo.shropshire-csp.example.org")
    doomed = start_worker(celery_worker_process["database_url"], worker_redis_url, queue, tmp_path / "doomed.log")
    upload_id = _held_upload(worker_app, path, queue, hold_seconds=120)
    _wait_for(analyst, upload_id, "running", 60)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    # No worker takes the job back (none listens on its queue): once it has run longer than the
    # longest job may (the visibility timeout), the page stops saying "Working" and offers a retry.
    worker_app.config["CELERY_VISIBILITY_TIMEOUT"] = 3
    status = _wait_for(analyst, upload_id, "failed", 30)
    assert status["retry_url"]
    page = analyst.get(f"/crime/imports/{upload_id}")
    assert "The import did not finish" in text_of(page) and "Working" not in text_of(page)
    assert "Try the import again" in text_of(page)
    assert "did not finish" in text_of(analyst.get("/crime/imports"))

    response = analyst.post(status["retry_url"])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/crime/imports/{upload_id}")
    status = _wait_for(analyst, upload_id, "done", 60)  # the retry went to the deployment's workers
    assert status["rows"] == rows
    assert f"Done: {rows:,} rows imported" in text_of(analyst.get(f"/crime/imports/{upload_id}"))
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(CrimeRecord).where(
        CrimeRecord.month == date(2016, 2, 1))).scalar_one() == rows
