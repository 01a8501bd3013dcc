"""People saving the same concern or task at the same moment, on PostgreSQL with real threads.

To make "the same moment" certain rather than lucky, another connection holds
the row's lock while the requests read the record and try to write it; it
then commits its own change (or none) and lets them go.
"""
import threading
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.concerns import services as concerns
from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking import tasks as tasking

from ..conftest import DEMO_EMAILS, Browser, text_of
from ..factories import one


@pytest.fixture
def app_on_postgres(databases):
    from portal import create_app
    from portal.config import TestConfig

    from ..conftest import PG_URL, need

    need(PG_URL, "TEST_DATABASE_URL")
    url = databases.postgresql()
    app = create_app(TestConfig(database_url=url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)



def waiting_for_locks(engine, expected, timeout=20):
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(sa.text("select count(*) from pg_locks where not granted")).scalar() >= expected:
                return True
            time.sleep(0.05)
    return False


def at_once(app, browsers, url, data, holder_sql, expected_waiting):
    """POST from each browser while ``holder_sql`` holds the row; returns the status codes and pages."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    results = [None] * len(browsers)

    def post(index, browser):
        try:
            response = browser.post(url, data(index) if callable(data) else data)
            results[index] = (response.status_code, text_of(response))
        except Exception as error:  # what would have been a 500
            results[index] = (500, f"{type(error).__name__}: {error}")

    with engine.connect() as holder:
        transaction = holder.begin()
        holder.execute(sa.text(holder_sql))
        threads = [threading.Thread(target=post, args=(i, b)) for i, b in enumerate(browsers)]
        for thread in threads:
            thread.start()
        reached = waiting_for_locks(engine, expected_waiting)
        transaction.commit()
    for thread in threads:
        thread.join(30)
    engine.dispose()
    assert reached, f"the requests never reached the locked row: {[(c, p[:300]) for c, p in results]}"
    return results


def test_concurrent_status_changes_of_one_concern_give_a_message_not_an_error(app_on_postgres):
    app = app_on_postgres
    concern = Concern(locality=one(Locality, key="wem"), category=one(ConcernCategory, name="CRIME - BURGLARY"),
                      source="pact", raised_on=date.today(), you_said="Sheds broken into", status="new")
    db.session.add(concern)
    db.session.commit()
    officers = [Browser(app).sign_in(DEMO_EMAILS["officer"]) for _ in range(3)]
    for officer in officers:
        officer.csrf_token()
    version = str(concern.version_id)
    results = at_once(app, officers, f"/concerns/{concern.id}/status",
                      {"status": "no_further_action", "reason": "Duplicate", "version": version,
                       "public_reason": "Raised twice: answered with the first"},
                      f"update concerns set status = 'accepted', version_id = version_id + 1 where id = {concern.id}",
                      expected_waiting=3)
    assert [code for code, _ in results] == [409, 409, 409], results
    assert all("Someone else saved this concern at the same moment" in page for _, page in results)
    db.session.expire_all()
    assert db.session.get(Concern, concern.id).status == "accepted"


def test_concurrent_updates_of_one_task_give_a_message_not_an_error(app_on_postgres):
    app = app_on_postgres
    partner = one(User, email=DEMO_EMAILS["partner"])
    task = tasking.create_task(by=one(User, email=DEMO_EMAILS["officer"]), title="Litter", problem="Litter",
                               locality_id=one(Locality, key="wem").id, owner_id=partner.id,
                               lead_organisation_id=partner.organisation_id, due_on=date.today() + timedelta(days=9))
    db.session.commit()
    partners = [Browser(app).sign_in(DEMO_EMAILS["partner"]) for _ in range(3)]
    for person in partners:
        person.csrf_token()
    results = at_once(app, partners, f"/tasks/{task.id}/update",
                      {"version": str(task.version_id), "text": "Letter drop done", "stage": "scanning",
                       "status": "open"},
                      f"update tasks set version_id = version_id + 1 where id = {task.id}", expected_waiting=3)
    assert [code for code, _ in results] == [409, 409, 409], results
    assert all("Someone saved this task at the same moment as you" in page for _, page in results)


def test_the_same_problem_raised_at_once_is_counted_every_time(app_on_postgres):
    app = app_on_postgres
    wem = one(Locality, key="wem")
    category = one(ConcernCategory, name="ENVIRONMENTAL - GRAFFITI")
    original = concerns.open_repeat_candidates([(wem.id, category.id)]).get((wem.id, category.id))
    if original is None:
        original = Concern(locality=wem, category=category, source="pact", raised_on=date.today(),
                           you_said="Graffiti on the bus shelter", status="new")
        db.session.add(original)
        db.session.commit()
    before = original.raised_count
    officers = [Browser(app).sign_in(DEMO_EMAILS["officer"]) for _ in range(6)]
    for officer in officers:
        officer.csrf_token()
    form = {"source": "resident_contact", "raised_on": date.today().strftime("%d/%m/%Y"), "raised_count": "2",
            "category": str(category.id), "locality": str(wem.id), "repeat": f"link:{original.id}"}
    results = at_once(app, officers, "/concerns/new", lambda i: form | {"you_said": f"More graffiti, call {i}"},
                      f"select id from concerns where id = {original.id} for update", expected_waiting=6)
    assert [code for code, _ in results] == [302] * 6, results
    db.session.expire_all()
    assert db.session.get(Concern, original.id).raised_count == before + 12
