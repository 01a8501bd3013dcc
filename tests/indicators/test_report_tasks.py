"""The PMCG report lists, under each indicator, its action's tasks at the report's locality: live now,
and completed within the period, each linked to its page; the CSV counts them."""
import csv
import io
from datetime import date

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.indicators import engine, services
from portal.partners.models import Organisation
from portal.places.models import Locality
from portal.plan.models import IndicatorDefinition
from portal.tasking.chain import LISTED

from ..conftest import text_of
from ..factories import new_task, one, plan_action, user

OCTOBER = date(2018, 10, 1)


def a_task(title, *, where="wem", action=None, status="open", completed_on=None):
    """A North task (or ``where``'s) serving the ASB action unless told, in the given state."""
    task = new_task(where=where, action=action or plan_action())
    task.title, task.status, task.completed_on = title, status, completed_on
    db.session.commit()
    return task


@pytest.fixture
def asb_tasks(app):
    """The ASB action's tasks in every state, in the North and one in the South, and one of another action."""
    admin = user("admin")
    tasks = {
        "live": a_task("Youths at Wem recreation ground"),
        "blocked": a_task("Fly-tipping behind the Wem shops", status="blocked"),
        "completed": a_task("Noise from the Wem takeaway", status="completed", completed_on=date(2018, 10, 15)),
        "closed": a_task("Nuisance bikes in Wem park", status="closed", completed_on=date(2018, 10, 31)),
        "before": a_task("Wem bus shelter gatherings", status="completed", completed_on=date(2018, 9, 30)),
        "after": a_task("Wem car park meets", status="closed", completed_on=date(2018, 11, 1)),
        "escalated": a_task("Wem county lines", status="escalated"),
        "other action": a_task("Damage to Wem play area", action=plan_action("To reduce criminal damage")),
    }
    from portal.tasking import tasks as tasking

    partner = user("partner")
    tasks["south"] = tasking.create_task(
        by=admin, title="Youths at Ludlow castle", problem="Gatherings", locality_id=one(Locality, key="ludlow").id,
        lead_organisation_id=partner.organisation_id, owner_id=partner.id, due_on=date.today(),
        action_id=plan_action().id)
    db.session.commit()
    return tasks


def asb_row(rows, code="asb-incidents-rate"):
    return next(r for r in rows if r.indicator.code == code)


@pytest.mark.both_databases
def test_the_report_lists_the_actions_live_tasks_and_those_completed_in_the_period(app, backend, asb_tasks):
    north = one(Locality, key="north")
    rows = services.report("monthly", OCTOBER, north, viewer=user("analyst"))
    row = asb_row(rows)
    assert [t.title for t in row.tasks.live] == ["Youths at Wem recreation ground", "Fly-tipping behind the Wem shops"]
    assert [t.title for t in row.tasks.completed] == ["Noise from the Wem takeaway", "Nuisance bikes in Wem park"]
    assert (row.tasks.live_count, row.tasks.completed_count) == (2, 2)
    # Both of the action's indicators list the same tasks; other actions' indicators list their own.
    assert [t.title for t in asb_row(rows, "ni21-asb-confidence").tasks.live] == [t.title for t in row.tasks.live]
    assert [t.title for t in asb_row(rows, "criminal-damage-rate").tasks.live] == ["Damage to Wem play area"]
    assert all(r.tasks.live_count == 0 for r in rows if r.indicator.action_id is None)

    county = asb_row(services.report("monthly", OCTOBER, one(Locality, key="shropshire"), viewer=user("analyst")))
    assert "Youths at Ludlow castle" in [t.title for t in county.tasks.live] and county.tasks.live_count == 3
    # The quarter holds October and November: the task closed on 1 November counts in it.
    quarter = asb_row(services.report("quarterly", OCTOBER, north, viewer=user("analyst")))
    assert quarter.tasks.completed_count == 3


def test_the_report_lists_only_the_tasks_its_reader_may_see(app, asb_tasks):
    fire = one(Organisation, name="Shropshire Fire and Rescue Service")
    asb_tasks["blocked"].supporting_organisations.append(fire)
    db.session.commit()
    from portal.people.models import User

    firefighter = User(email="fire.officer@example.org", display_name="Fiona Fire", role="partner",
                       organisation=fire)
    db.session.add(firefighter)
    db.session.commit()
    row = asb_row(services.report("monthly", OCTOBER, one(Locality, key="north"), viewer=firefighter))
    assert [t.title for t in row.tasks.live] == ["Fly-tipping behind the Wem shops"] and row.tasks.completed == []
    assert (row.tasks.live_count, row.tasks.completed_count) == (1, 0)


def test_a_long_list_shows_the_first_tasks_and_counts_the_rest(app):
    for n in range(LISTED + 3):
        a_task(f"Task number {n:02d}")
    row = asb_row(services.report("monthly", OCTOBER, one(Locality, key="north"), viewer=user("admin")))
    assert len(row.tasks.live) == LISTED and row.tasks.live_count == LISTED + 3


def test_the_report_reads_tasks_in_the_same_number_of_queries_however_many_there_are(app):
    north = one(Locality, key="north")

    def queries():
        statements = []
        record = lambda *args: statements.append(args[2])  # noqa: E731
        db.session.expire_all()
        viewer = user("officer")
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            services.report("monthly", OCTOBER, north, viewer=viewer)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return statements

    none_yet = queries()
    for title in ("To tackle anti social behaviour", "To reduce criminal damage", "To reduce assaults"):
        for status, completed_on in (("open", None), ("in_progress", None), ("completed", date(2018, 10, 2))):
            a_task(f"{title}: {status}", action=plan_action(title), status=status, completed_on=completed_on)
    many = queries()
    assert len(many) == len(none_yet)
    assert len([s for s in many if "FROM tasks" in s]) == 2


# ---- the page and its CSV -----------------------------------------------------------------------------

@pytest.fixture
def october_figures(app):
    engine.rollup(OCTOBER, OCTOBER, sources=("police_crime",))


def test_the_report_page_links_each_task_and_the_csv_counts_them(app, as_role, asb_tasks, october_figures):
    officer = as_role("officer")
    response = officer.get("/indicators/?frequency=monthly&period=2018-10-01&locality=north")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    row = page[page.index('id="indicator-asb-incidents-rate"'):]
    row = row[:row.index("</tr>")]
    for key in ("live", "blocked", "completed", "closed"):
        task = asb_tasks[key]
        assert f'href="/tasks/{task.id}">Task {task.id}: {task.title}</a>' in row, key
    for key in ("before", "after", "escalated", "other action", "south"):
        assert asb_tasks[key].title not in row, key
    text = text_of(response)
    assert "Live tasks: 2" in text and "Completed in the period: 2" in text
    assert "(completed 15 Oct 2018)" in text

    rows = list(csv.DictReader(io.StringIO(officer.get(
        "/indicators/report.csv?frequency=monthly&period=2018-10-01&locality=north").get_data(as_text=True))))
    asb = next(r for r in rows if r["indicator"] == one(IndicatorDefinition, code="asb-incidents-rate").name)
    assert (asb["live_tasks"], asb["completed_tasks"]) == ("2", "2")
    damage = next(r for r in rows if r["indicator"].startswith("Criminal damage"))
    assert (damage["live_tasks"], damage["completed_tasks"]) == ("1", "0")


def test_from_a_report_task_back_to_its_page(app, as_role, asb_tasks, october_figures):
    officer = as_role("officer")
    task = asb_tasks["live"]
    assert f"/tasks/{task.id}" in officer.get("/indicators/?frequency=monthly&period=2018-10-01&locality=north"
                                              ).get_data(as_text=True)
    page = officer.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert '/indicators/?frequency=monthly&amp;locality=north#indicator-asb-incidents-rate' in page
