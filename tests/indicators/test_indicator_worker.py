"""In production the PMCG report never recomputes in the request: a real worker brings stale figures up to date."""
import time

import pytest
from sqlalchemy import select

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
    assert REFRESHING in page and f"computed at {computed:%H:%M on %d %B %Y} UTC" in page
    assert db.session.get(RollupRun, "portal").finished_at == computed  # the request did not recompute

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(RollupRun, "portal").finished_at > computed:
            break
        time.sleep(0.2)
    assert db.session.get(RollupRun, "portal").finished_at > concern.updated_at
    assert REFRESHING not in text_of(analyst.get("/indicators/"))
