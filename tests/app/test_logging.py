"""What the portal writes to its log: imports, rollups and refusals, as records and as production's JSON."""
import json
import logging
import os
import re
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import select

from portal.config import ROOT
from portal.crime.services import import_paths
from portal.extensions import db
from portal.indicators import engine
from portal.people.models import User
from portal.places.models import Locality
from portal.plan.models import IndicatorDefinition

from ..conftest import DEMO_EMAILS

OCT = ROOT / "seed" / "police" / "2018-10-west-mercia-street.csv"


def records(caplog, logger):
    return [r for r in caplog.records if r.name == logger]


def test_an_import_logs_each_file_with_its_month_and_rows_and_a_refusal_with_its_reason(app, caplog, tmp_path):
    broken = tmp_path / "2018-10-broken.csv"
    broken.write_text("Crime ID,Month\nabc,2018-10\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="portal")

    runs, errors = import_paths([OCT, broken])

    imported, refused = records(caplog, "portal.crime.services")
    assert (imported.file, imported.month, imported.rows) == (OCT.name, date(2018, 10, 1), runs[0].rows)
    assert f"Imported {OCT.name}: {runs[0].rows} rows" in imported.getMessage()
    assert refused.file == broken.name and refused.refused == errors[0].message
    assert refused.getMessage() == f"Refused {errors[0].message}"


def test_a_rollup_logs_its_source_range_values_and_time(app, caplog):
    caplog.set_level(logging.INFO, logger="portal")

    result = engine.rollup(date(2018, 10, 1), date(2018, 11, 1), ("police_crime",))

    (rollup,) = records(caplog, "portal.indicators.engine")
    assert (rollup.source, rollup.date_from, rollup.date_to) == ("police_crime", date(2018, 10, 1), date(2018, 11, 1))
    assert rollup.rows == result["police_crime"] > 0 and rollup.seconds >= 0


def test_a_refusal_logs_the_path_the_user_and_the_message_never_what_was_typed(app, as_role, caplog):
    analyst = as_role("analyst")
    ni5 = db.session.execute(select(IndicatorDefinition).filter_by(
        code="ni5-satisfaction-with-local-area")).scalar_one()
    county = db.session.execute(select(Locality).filter_by(key="shropshire")).scalar_one()
    user_id = db.session.execute(select(User.id).filter_by(email=DEMO_EMAILS["analyst"])).scalar_one()
    caplog.set_level(logging.INFO, logger="portal")

    response = analyst.post("/indicators/manual", {
        "indicator": str(ni5.id), "locality": str(county.id), "period_type": "financial_year",
        "period_start": "2010-04", "value": "140", "note": "typed-by-the-analyst-7f3a"})

    assert response.status_code == 400
    (refusal,) = [r for r in records(caplog, "portal") if hasattr(r, "refused")]
    assert refusal.levelno == logging.INFO
    assert (refusal.path, refusal.user_id) == ("/indicators/manual", user_id)
    assert refusal.refused == "A percentage must be between 0 and 100"
    assert "typed-by-the-analyst-7f3a" not in json.dumps(vars(refusal), default=str)


def run_portal(script, **env):
    """A fresh interpreter building the app as gunicorn would; returns what it wrote to stderr."""
    env = dict(os.environ, SECRET_KEY="a-production-secret-long-enough-for-32-bytes", **env)
    for name in ("REDIS_URL", "DATABASE_URL"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


LOG_AN_IMPORT = """
import logging
from datetime import date
from portal import create_app
create_app(); create_app()  # configured twice: still one line per record
log = logging.getLogger("portal.crime.services")
log.info("Imported %s: %s rows for %s", "a.csv", 3, date(2018, 10, 1),
         extra={"file": "a.csv", "month": date(2018, 10, 1), "rows": 3})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("Import failed")
"""


def test_production_writes_one_json_object_a_line_with_the_fields():
    lines = run_portal(LOG_AN_IMPORT, PORTAL_ENV="production").splitlines()

    entries = [json.loads(line) for line in lines]  # every line is JSON, nothing else
    imported, failed = [e for e in entries if e["logger"] == "portal.crime.services"]
    assert imported["message"] == "Imported a.csv: 3 rows for 2018-10-01"
    assert (imported["level"], imported["file"], imported["month"], imported["rows"]) == ("INFO", "a.csv",
                                                                                         "2018-10-01", 3)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", imported["time"])
    assert failed["level"] == "ERROR" and "ZeroDivisionError" in failed["exception"]


def test_development_writes_readable_lines():
    output = run_portal(LOG_AN_IMPORT, PORTAL_ENV="development")

    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO portal\.crime\.services: Imported a\.csv: 3 rows "
                     r"for 2018-10-01$", output, re.M)
    assert output.count("Imported a.csv") == 1


@pytest.mark.worker
def test_the_celery_worker_logs_through_the_same_configuration(worker_app, celery_worker_process):
    worker_app.extensions["celery"].tasks["maintenance.count_rows"].delay().get(timeout=60)

    log = celery_worker_process["log"].read_text()
    # The portal's format (not Celery's "[time: INFO/MainProcess]"), for Celery's own records too.
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO celery\.", log, re.M), log[-2000:]
    assert "INFO/MainProcess]" not in log
