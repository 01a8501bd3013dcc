"""Every route states who may use it, and everyone else is kept out.

The walk covers every URL rule the app has, so a new route without an
``@allow`` (or with the wrong one) fails here.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.access import PUBLIC, ROLES, SIGNED_IN, rule_for
from portal.concerns.models import Concern, ConcernCategory, ConcernEvent
from portal.extensions import db
from portal.people.models import User
from portal.places.models import Locality
from portal.plan.models import Action
from portal.tasking import meetings as tasking_meetings
from portal.tasking import tasks as tasking
from portal.tasking.models import Task, task_concerns

from ..conftest import DEMO_EMAILS, Browser, text_of

SAMPLE_ARGS = {"int": 1, "string": "north", "default": "north", "path": "north"}


def sample_url(app, rule):
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        kind = {v: k for k, v in app.url_map.converters.items()}.get(type(converter), "default")
        values[name] = SAMPLE_ARGS.get(kind, 1)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def routes(app):
    # Signing out last, so the walk stays signed in for everything else.
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "people.logout"):
        if rule.endpoint == "static":
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, method


def test_every_route_declares_who_may_use_it(app):
    missing = [rule.rule for rule, _ in routes(app) if rule_for(rule.endpoint) is None]
    assert missing == [], f"routes without @allow: {missing}"


@pytest.mark.parametrize("who", ("anonymous",) + ROLES)
def test_routes_refuse_everyone_not_allowed(app, who):
    person = Browser(app) if who == "anonymous" else Browser(app).sign_in(DEMO_EMAILS[who])
    wrong = []
    for rule, method in routes(app):
        allowed = rule_for(rule.endpoint)
        permitted = PUBLIC in allowed or (who != "anonymous" and (SIGNED_IN in allowed or who in allowed))
        url = sample_url(app, rule)
        response = person.get(url) if method == "GET" else person.post(url, {})
        sent_to_login = response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")
        if permitted:
            role_refused = response.status_code == 403 and response.headers.get("X-Access-Refused") != "record"
            if role_refused or sent_to_login:
                wrong.append(f"{method} {url}: {who} was refused ({response.status_code})")
        elif who == "anonymous":
            if not sent_to_login:
                wrong.append(f"{method} {url}: anonymous got {response.status_code}, not the sign-in page")
        elif response.status_code != 403 or response.headers.get("X-Access-Refused") != "role":
            wrong.append(f"{method} {url}: {who} got {response.status_code}, not 403")
    assert wrong == []


def test_a_form_posted_without_its_csrf_token_is_refused(app):
    person = Browser(app)
    response = person.post("/login", {"email": DEMO_EMAILS["admin"], "password": "x"}, csrf=False)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_pages_send_security_headers(browser):
    response = browser.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


# ---- object level: an officer of the North reaches nothing of the South through an id ------------

GRAFFITI = "ENVIRONMENTAL - GRAFFITI"


def _one(model, **by):
    return db.session.execute(select(model).filter_by(**by)).scalar_one()


@pytest.fixture
def south(app):
    """A South concern with private notes, a South tasking meeting and a South task, made by the admin."""
    admin, partner = _one(User, email=DEMO_EMAILS["admin"]), _one(User, email=DEMO_EMAILS["partner"])
    concern = Concern(locality=_one(Locality, key="ludlow"), category=_one(ConcernCategory, name=GRAFFITI),
                      source="pact", raised_on=date.today() - timedelta(days=2), status="new",
                      you_said="Graffiti on Ludlow market hall", internal_notes="Witness: Mrs Ludlow, flat 2")
    db.session.add(concern)
    db.session.commit()
    meeting = tasking_meetings.open_meeting(by=admin, area_id=_one(Locality, key="south").id, held_on=date.today())
    task = tasking.create_task(by=admin, title="Ludlow market hall", problem="Graffiti",
                               locality_id=concern.locality_id, lead_organisation_id=partner.organisation_id,
                               owner_id=partner.id, due_on=date.today() + timedelta(days=14))
    db.session.commit()
    return {"concern": concern, "meeting": meeting, "task": task}


def _refused_for_the_record(response):
    return response.status_code == 403 and response.headers.get("X-Access-Refused") == "record"


def test_another_areas_concern_meeting_task_and_meeting_csv_are_refused_by_id(app, as_role, south):
    officer = as_role("officer")
    concern = south["concern"]
    for url, form in ((f"/concerns/{concern.id}/status", {"status": "accepted", "version": concern.version_id}),
                      (f"/concerns/{concern.id}/publish", {"version": concern.version_id})):
        assert _refused_for_the_record(officer.post(url, form)), url
    db.session.refresh(concern)
    assert concern.status == "new" and not concern.published
    meeting_url = f"/tasking/meetings/{south['meeting'].id}"
    item_url = f"{meeting_url}/items/{south['meeting'].items[0].id}"
    for url in (meeting_url, f"{meeting_url}/record.csv", item_url, f"{item_url}?q=Ludlow",
                f"/tasks/{south['task'].id}"):
        response = officer.get(url)
        assert _refused_for_the_record(response), f"{url}: {response.status_code}"
        assert "Ludlow" not in response.get_data(as_text=True), url
    admin, analyst = as_role("admin"), as_role("analyst")
    for person in (admin, analyst):
        assert person.get(f"/tasking/meetings/{south['meeting'].id}/record.csv").status_code == 200


def test_another_areas_task_details_cannot_be_changed_by_id(app, as_role, south):
    officer, task = as_role("officer"), south["task"]
    version, due_on = task.version_id, task.due_on
    later = due_on + timedelta(days=7)
    for method, url in (("GET", f"/tasks/{task.id}/details"), ("POST", f"/tasks/{task.id}/details")):
        response = officer.get(url) if method == "GET" else officer.post(url, {
            "version": str(version), "due_on-day": str(later.day), "due_on-month": str(later.month),
            "due_on-year": str(later.year), "due_reason": "Moved", "owner": str(task.owner_id),
            "lead_organisation": str(task.lead_organisation_id), "priority": "high"})
        assert _refused_for_the_record(response), f"{method} {url}: {response.status_code}"
        assert "Ludlow" not in response.get_data(as_text=True)
    db.session.refresh(task)
    assert (task.version_id, task.due_on, task.priority) == (version, due_on, "medium")


def test_another_areas_concern_cannot_be_linked_to_an_own_task(app, as_role, south):
    officer, partner = as_role("officer"), as_role("partner")
    concern = south["concern"]
    owner = _one(User, email=DEMO_EMAILS["partner"])
    tasks_before = db.session.execute(select(func.count()).select_from(Task)).scalar_one()
    response = officer.post(f"/tasks/new?concerns={concern.id}", {
        "title": "Graffiti in Wem", "problem": "Tags", "locality": str(_one(Locality, key="wem").id),
        "lead_organisation": str(owner.organisation_id), "owner": str(owner.id),
        "due_on": (date.today() + timedelta(days=14)).strftime("%d/%m/%Y"), "priority": "medium",
        "concerns": str(concern.id), "action": str(_one(Action, title="To reduce criminal damage").id)})
    assert response.status_code in (400, 403)
    assert f"Concern {concern.id} is not one of this area's concerns" in text_of(response)
    assert db.session.execute(select(func.count()).select_from(Task)).scalar_one() == tasks_before
    assert db.session.execute(select(func.count()).select_from(task_concerns)
                              .where(task_concerns.c.concern_id == concern.id)).scalar_one() == 0
    db.session.refresh(concern)
    assert concern.status == "new"
    # so the partner the task was for never reads the South concern's notes
    assert partner.get(f"/concerns/{concern.id}").status_code == 403


@pytest.mark.parametrize("form", ("single concern", "pact meeting"))
def test_a_forged_same_problem_answer_cannot_reach_another_areas_concern(app, as_role, south, form):
    officer = as_role("officer")
    concern = south["concern"]
    wem, graffiti = _one(Locality, key="wem"), _one(ConcernCategory, name=GRAFFITI)
    events_before = db.session.execute(select(func.count()).select_from(ConcernEvent)
                                       .filter_by(concern_id=concern.id)).scalar_one()
    yesterday = (date.today() - timedelta(days=1)).strftime("%d/%m/%Y")
    if form == "single concern":
        response = officer.post("/concerns/new", {
            "category": str(graffiti.id), "you_said": "Tags on the Wem bus shelter", "locality": str(wem.id),
            "source": "resident_contact", "raised_on": yesterday, "raised_count": "7",
            "repeat": f"link:{concern.id}"})
    else:
        response = officer.post("/concerns/meetings/new", {
            "locality": str(wem.id), "held_on": yesterday, "venue": "Wem Town Hall", "attendance": "9",
            "concerns-0-category": str(graffiti.id), "concerns-0-you_said": "Tags on the Wem bus shelter",
            "concerns-0-raised_count": "7", "concerns-0-repeat": f"link:{concern.id}"})
    assert response.status_code in (400, 403)
    assert "You can add to open concerns only in your own areas" in text_of(response)
    db.session.refresh(concern)
    assert concern.raised_count == 1
    assert db.session.execute(select(func.count()).select_from(ConcernEvent)
                              .filter_by(concern_id=concern.id)).scalar_one() == events_before


# ---- the review loop and the bulk actions ----------------------------------------------------------

def test_bulk_actions_are_for_officers_and_admins_and_refuse_another_areas_concerns(app, as_role, south):
    """POST /concerns/bulk and POST /concerns/meetings/<id>/publish-reviewed: officers and admins (the walk
    above proves partners, analysts and visitors are refused); a North officer's batch holding a South
    concern, or aimed at a South PACT meeting, changes nothing."""
    from portal.concerns import services as concern_services

    concern = south["concern"]
    admin = _one(User, email=DEMO_EMAILS["admin"])
    meeting = concern_services.record_pact_meeting(
        by=admin, locality_id=concern.locality_id, held_on=date.today() - timedelta(days=1), venue="Ludlow",
        attendance=5, partner_ids=[], notes="", items=[concern_services.ConcernInput(
            category_id=concern.category_id, you_said="Tags on the castle wall", locality_id=concern.locality_id)])
    reviewed = meeting.concerns[0]
    concern_services.change_status(reviewed, "responded", by=admin, we_did="Cleaned off")
    db.session.commit()
    officer = as_role("officer")
    response = officer.post("/concerns/bulk", {"concerns": [str(concern.id)], "action": "accepted"})
    assert response.status_code == 403 and f"Concern {concern.id}" in text_of(response)
    assert _refused_for_the_record(officer.post(f"/concerns/meetings/{meeting.id}/publish-reviewed",
                                                {"concerns": [str(reviewed.id)]}))
    db.session.expire_all()
    assert concern.status == "new" and not reviewed.published
    for role in ("partner", "analyst"):
        person = as_role(role)
        assert person.post("/concerns/bulk", {"concerns": [str(concern.id)], "action": "accepted"}).status_code == 403
        assert person.post(f"/concerns/meetings/{meeting.id}/publish-reviewed",
                           {"concerns": [str(reviewed.id)]}).status_code == 403


def test_the_review_queue_shows_only_the_officers_own_areas(app, as_role, south):
    """GET /tasks/ (signed in): a South task awaiting review is neither listed nor counted for a North officer."""
    task = south["task"]
    partner = as_role("partner")
    partner.post(f"/tasks/{task.id}/update", {"version": str(task.version_id), "stage": task.stage,
                                              "status": "completed", "assessment": "Fewer tags",
                                              "we_did": "Graffiti removed from the market hall"})
    db.session.refresh(task)
    assert task.status == "completed"
    page = text_of(as_role("officer").get("/tasks/"))
    assert "Ludlow market hall" not in page and "awaiting your review" not in page.lower()
    assert "Ludlow market hall" in text_of(as_role("admin").get("/tasks/"))


def test_another_areas_concern_cannot_be_edited_withdrawn_or_redacted_by_id(app, as_role, south):
    """The corrections' routes (edit, withdraw, redact; a task's withdrawal) are for officers of the area
    and admins: a North officer reaches none of them for a South concern or task, by page or by form."""
    officer, admin = as_role("officer"), as_role("admin")
    concern, task = south["concern"], south["task"]
    concern.published = True
    db.session.commit()
    said, version = concern.you_said, str(concern.version_id)
    forms = {f"/concerns/{concern.id}/edit": {"version": version, "category": str(concern.category_id),
                                              "locality": str(concern.locality_id), "you_said": "Changed",
                                              "raised_count": "1"},
             f"/concerns/{concern.id}/withdraw": {"version": version, "reason": "Not mine"},
             f"/concerns/{concern.id}/redact": {"version": version, "field": "you_said", "text": "Ludlow"},
             f"/tasks/{task.id}/withdraw": {"reason": "Not mine"}}
    for url, form in forms.items():
        assert _refused_for_the_record(officer.get(url)), url
        assert _refused_for_the_record(officer.post(url, form)), url
        assert admin.get(url).status_code == 200, url
    db.session.refresh(concern)
    assert concern.you_said == said and concern.published
    assert [e.kind for e in concern.events if e.kind in ("edited", "withdrawn", "redacted")] == []
