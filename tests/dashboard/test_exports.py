"""The dashboard's CSVs: the task list's rows as filtered (per task, or per log entry), only what the person
may see, and the register's concerns with the first time each reached every state."""
import csv
import io
import re

import pytest

from portal.extensions import db
from portal.tasking.models import TaskUpdate

from ..factories import completed, new_concern, new_task, one, user
from .conftest import PERIOD, TODAY, ago

pytestmark = pytest.mark.both_databases
FORMULA = '=HYPERLINK("http://evil.example/","Click")'


def rows_of(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def listed_ids(browser, url):
    page = browser.get(url)
    assert page.status_code == 200
    return {int(i) for i in re.findall(r'href="/tasks/(\d+)"', page.get_data(as_text=True))}


@pytest.mark.parametrize("query", ["", "show=late", "show=overdue", "show=open&area={north}",
                                   "lead={alpha}&show=completed&completed_from={start}&completed_to={end}"])
def test_the_task_export_has_the_rows_of_the_filtered_list(app, backend, as_role, partnership, query):
    query = query.format(north=one(type(partnership["tasks"]["alpha_open"].area), key="north").id,
                         alpha=partnership["alpha"].id, start=PERIOD["date_from"], end=PERIOD["date_to"])
    admin = as_role("admin")
    exported = rows_of(admin.get(f"/dashboard/tasks.csv?{query}"))
    assert {int(r["id"]) for r in exported} == listed_ids(admin, f"/tasks/?{query}")
    assert exported, query


def test_a_task_row_says_whether_it_was_completed_on_time_and_in_how_many_days(app, backend, as_role, partnership):
    tasks = partnership["tasks"]
    rows = {int(r["id"]): r for r in rows_of(as_role("analyst").get("/dashboard/tasks.csv"))}
    late, on_time, overdue = (rows[tasks[k].id] for k in ("alpha_late", "alpha_on_time_2", "alpha_overdue_1"))
    assert (late["completed_on_time"], late["days_to_complete"]) == ("no", "7")
    assert late["completed_on"] == ago(3).isoformat()
    assert (on_time["completed_on_time"], on_time["days_to_complete"]) == ("yes", "28")
    assert (overdue["overdue"], overdue["completed_on_time"]) == ("yes", "")
    assert overdue["lead_partner"] == "Alpha Housing Trust"


def test_the_log_export_has_one_row_per_entry_of_the_filtered_tasks(app, backend, as_role, partnership):
    tasks = partnership["tasks"]
    db.session.add(TaskUpdate(task=tasks["alpha_late"], by_id=partnership["owners"][partnership["alpha"]].id,
                              text="Met the residents' group", to_status="completed", from_status="in_progress"))
    db.session.commit()
    rows = rows_of(as_role("admin").get("/dashboard/tasks.csv?show=late&entries=1"))
    late = {tasks["alpha_late"].id, tasks["beta_late"].id}
    assert {int(r["task_id"]) for r in rows} == late
    expected = db.session.query(TaskUpdate).filter(TaskUpdate.task_id.in_(late)).count()
    assert len(rows) == expected == 3
    entry = next(r for r in rows if r["text"] == "Met the residents' group")
    assert (entry["from_status"], entry["to_status"], entry["by"]) == ("In progress", "Completed", "Alpha lead")


def test_a_task_row_names_its_owner_supporting_partners_and_concerns(app, backend, as_role, partnership):
    concern = new_concern()
    task = new_task(concern)
    task.supporting_organisations = [partnership["alpha"], partnership["beta"]]
    db.session.commit()
    row = next(r for r in rows_of(as_role("admin").get("/dashboard/tasks.csv")) if r["id"] == str(task.id))
    assert sorted(row["supporting_partners"].split("; ")) == ["Alpha Housing Trust", "Beta Youth Service"]
    assert (row["concerns"], row["owner"]) == (str(concern.id), user("partner").display_name)
    assert rows_of(as_role("admin").get("/dashboard/tasks.csv"))[0]["owner"] != ""


def test_a_partner_exports_only_their_organisations_tasks_and_no_internal_notes(app, backend, as_role,
                                                                                partnership):
    concern = new_concern()  # its internal note: "Caller lives at 4 Mill Lane"
    theirs = completed(new_task(concern), "Moved the bench")
    partner = as_role("partner")
    for query in ("", f"lead={partnership['alpha'].id}", "entries=1"):
        body = partner.get(f"/dashboard/tasks.csv?{query}").get_data(as_text=True)
        ids = {int(r.get("id") or r["task_id"]) for r in csv.DictReader(io.StringIO(body))}
        assert ids <= {theirs.id}, query
        assert "Mill Lane" not in body and "Alpha" not in body
    assert [int(r["id"]) for r in rows_of(partner.get("/dashboard/tasks.csv"))] == [theirs.id]
    assert rows_of(partner.get(f"/dashboard/tasks.csv?lead={partnership['alpha'].id}")) == []
    assert partner.get("/dashboard/concerns.csv").status_code == 403


def test_task_exports_never_carry_a_formula(app, backend, as_role):
    task = new_task()
    task.title, task.problem = FORMULA, "+44 1743 000000"
    db.session.add(TaskUpdate(task=task, by_id=user("partner").id, text="@SUM(1,1)"))
    db.session.commit()
    admin = as_role("admin")
    cells = [c for r in csv.reader(io.StringIO(admin.get("/dashboard/tasks.csv").get_data(as_text=True))
                                   ) for c in r]
    cells += [c for r in csv.reader(io.StringIO(admin.get("/dashboard/tasks.csv?entries=1").get_data(as_text=True))
                                    ) for c in r]
    assert "'" + FORMULA in cells and "'+44 1743 000000" in cells and "'@SUM(1,1)" in cells
    assert [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))] == []


def test_the_concern_export_gives_the_first_time_each_state_was_reached(app, backend, as_role, answered):
    officer = as_role("officer")
    query = f"area={one(type(answered['early'].locality), key='north').id}&date_from={PERIOD['date_from']}"
    rows = {int(r["id"]): r for r in rows_of(officer.get(f"/dashboard/concerns.csv?{query}"))}
    register = officer.get(f"/concerns/?{query}").get_data(as_text=True)
    assert set(rows) == {int(i) for i in re.findall(r'href="/concerns/(\d+)"', register)}
    assert answered["south"].id not in rows and answered["before_period"].id not in rows
    early = rows[answered["early"].id]
    assert early["published_at"].startswith(ago(25).isoformat())  # the first publication, not today's
    assert early["responded_at"] == "" and early["status"] == "Responded"  # its trail holds no status change
    logged = rows[answered["answered_10"].id]
    assert logged["logged_at"].startswith(TODAY.isoformat()) and logged["responded_at"].startswith(TODAY.isoformat())
    assert logged["accepted_at"] == "" and logged["published_at"].startswith(TODAY.isoformat())
    assert "internal_notes" not in early and "Mill Lane" not in str(rows)
