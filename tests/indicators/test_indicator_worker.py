"""In production the PMCG report never recomputes in the request: a real worker brings stale figures up to date."""
import time

import pytest
from sqlalchemy import delete, select

from portal.concerns.models import Concern
from portal.extensions import db
from portal.indicators import engine
from portal.indicators.models import RollupRun
from portal.models import utcnow

from ..conftest import DEMO_EMAILS, Browser, text_of

pytestmark = pytest.mark.worker
REFRESHING = "being brought up to date"


def test_stale_portal_figures_are_refreshed_by_the_worker_while_the_report_shows_the_last_ones(worker_app):
    engine.rollup(sources=("portal",))
    db.session.commit()
    analyst = Browser(worker_app).sign_in(DEMO_EMAILS["analyst"])
    assert REFRESHING not in text_of(analyst.get("/indicators/"))
    computed = db.session.get(RollupRun, "portal").finished_at

    concern = db.session.execute(select(Concern).order_by(Concern.id).limit(1)).scalar_one()
    concern.updated_at = utcnow()  # an officer's change since the figures were computed
    db.session.commit()
    page = text_of(analyst.get("/indicators/"))
    # The request did not recompute (it would then have nothing to say): it shows when the figures were.
    assert REFRESHING in page and f"computed at {computed:%H:%M on %d %B %Y} UTC" in page

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(RollupRun, "portal").finished_at > computed:
            break
        time.sleep(0.2)
    assert db.session.get(RollupRun, "portal").finished_at > concern.updated_at
    assert REFRESHING not in text_of(analyst.get("/indicators/"))


def touch_a_concern():
    concern = db.session.execute(select(Concern).order_by(Concern.id).limit(1)).scalar_one()
    concern.updated_at = utcnow()
    db.session.commit()
    return concern.updated_at


def refreshed_after(moment, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(RollupRun, "portal").finished_at > moment:
            return True
        time.sleep(0.2)
    return False


def test_a_change_after_a_refresh_is_refreshed_too_and_what_leaves_the_portal_is_current(worker_app):
    from portal.pack.models import IssuedPack
    from portal.pack.services import months_available

    engine.rollup(sources=("portal",))
    db.session.commit()
    analyst = Browser(worker_app).sign_in(DEMO_EMAILS["analyst"])
    for _ in range(2):  # each change gets its refresh, however soon after the last one it comes
        changed = touch_a_concern()
        assert REFRESHING in text_of(analyst.get("/indicators/"))
        assert refreshed_after(changed)

    changed = touch_a_concern()  # a download is brought up to date in its request
    assert analyst.get("/indicators/report.csv").status_code == 200
    db.session.expire_all()
    assert db.session.get(RollupRun, "portal").finished_at > changed

    # Issuing a pack with stale figures brings them up to date and asks for them to be checked first.
    month = max(m for m, _ in months_available())
    db.session.execute(delete(IssuedPack).where(IssuedPack.month == month))  # the worker tests share a database
    db.session.commit()
    touch_a_concern()
    response = analyst.post(f"/pack/{month:%Y-%m}/issue", {})
    assert response.status_code == 302
    assert "check them, then issue the pack" in text_of(analyst.get(response.headers["Location"]))
    assert db.session.execute(select(IssuedPack).where(IssuedPack.month == month)).first() is None
