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
