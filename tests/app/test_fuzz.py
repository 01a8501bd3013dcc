"""Fuzzing: no input to the public API or to any form gives a 500 (issue 12).

Schemathesis generates requests from the portal's own OpenAPI document and
sends them to the Flask app through WSGI (no network); Hypothesis fills every
field of every form with values of any shape. Both run on SQLite and
PostgreSQL, where over-long text, NUL characters and integer overflow fail.
"""
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.partners.models import Organisation
from portal.people.models import User
from portal.places.models import Locality
from portal.plan.models import Action
from portal.tasking import tasks as services

from ..conftest import DEMO_EMAILS, Browser

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])

# Values that broke something once, mixed with any text at all.
NASTY = st.sampled_from(["", " ", "abc", "9" * 25, "-1", "0", "nan", "inf", "1e309", "0001-01-01", "9999-12-31",
                         "31/12/9999", "01/01/0001", "2010-02-31", "link:abc", "link:" + "9" * 25, "\x00",
                         "x" * 300, "ß" * 161, "ß" * 150, "=HYPERLINK(\"http://x\")", "<script>",
                         "'; drop table users;--"])
VALUE = st.one_of(NASTY, st.text(max_size=40), st.text(min_size=2000, max_size=9000, alphabet="ab ß\n"),
                  st.integers(min_value=-2**70, max_value=2**70).map(str))


def no_server_error(person, url, data):
    try:
        response = person.post(url, data)
    except Exception as error:  # TESTING propagates what would have been a 500
        raise AssertionError(f"POST {url} with {data!r:.600} raised {type(error).__name__}: {error}") from error
    assert response.status_code < 500, f"POST {url} with {data!r:.600} gave {response.status_code}"
    return response


@pytest.mark.both_databases
def test_the_public_api_never_answers_with_a_server_error(app, backend):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(FUZZ, max_examples=30)
            def call(case):
                try:
                    response = case.call()
                except Exception as error:
                    raise AssertionError(f"{case.method} {case.formatted_path} {case.query}: "
                                         f"{type(error).__name__}: {error}") from error
                assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query}"

            try:
                call()
            except Unsatisfiable:  # no parameter to break (services.json): nothing negative to send
                assert mode == GenerationMode.NEGATIVE, operation.label


def _choice(model, **where):
    return str(db.session.execute(select(model.id).filter_by(**where).limit(1)).scalar_one())


def form_cases():
    """(url, {field: a valid value}) for each form: fuzzing replaces some fields with anything."""
    wem, north = _choice(Locality, key="wem"), _choice(Locality, key="north")
    category = _choice(ConcernCategory, name="ENVIRONMENTAL - GRAFFITI")
    partner_org = _choice(Organisation, name="Registered Social Landlords")
    today = date.today().strftime("%d/%m/%Y")
    concern = db.session.execute(select(Concern).where(Concern.locality_id == int(wem))).scalars().first()
    partner = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["partner"])).scalar_one()
    task = services.create_task(
        by=db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one(),
        title="Litter at the shop", problem="Every weekend", locality_id=int(wem),
        lead_organisation_id=partner.organisation_id, owner_id=partner.id, due_on=date.today() + timedelta(days=9))
    db.session.commit()
    cases = {
        "concern": ("/concerns/new", {"source": "resident_contact", "raised_on": today, "category": category,
                                      "you_said": "Litter by the shop", "locality": wem, "street": "High St",
                                      "internal_notes": "", "raised_count": "1", "repeat": "new"}),
        "pact meeting": ("/concerns/meetings/new", {
            "locality": wem, "held_on": today, "venue": "Hall", "attendance": "10", "notes": "",
            "next_meeting_on": (date.today() + timedelta(days=30)).strftime("%d/%m/%Y"), "next_meeting_venue": "",
            "concerns-0-category": category, "concerns-0-you_said": "Graffiti", "concerns-0-raised_count": "2",
            "concerns-0-lat": "52.85", "concerns-0-lon": "-2.72", "concerns-0-street": "",
            "concerns-0-internal_notes": "", "concerns-0-repeat": "new", "concerns-0-locality": ""}),
        "tasking meeting": ("/tasking/meetings/new", {"area": north, "held_on": today, "next_meeting_on": ""}),
        "user": ("/admin/users/new", {"display_name": "Pat Example", "email": "pat@example.org", "role": "partner",
                                      "organisation": partner_org, "password": "a-long-enough-password",
                                      "active": "y"}),
        "partner": ("/admin/partners/new", {"name": "Example Trust", "short_name": "ET", "kind": "voluntary",
                                            "aliases": "ET, The Trust", "active": "y"}),
        "locality": ("/admin/localities/new", {"name": "Newtown", "key": "newtown", "level": "ward",
                                               "parent": _choice(Locality, level="neighbourhood"),
                                               "population": "1200", "population_source": "ONS",
                                               "aliases": "", "active": "y"}),
        "category": ("/concerns/categories", {"group": "Environment", "name": "ENVIRONMENTAL - NEW"}),
        "raise a concern": ("/raise-a-concern/", {"category": category, "you_said": "Litter by the shop",
                                                   "place": "Wem", "place_key": "", "lat": "52.85", "lon": "-2.72",
                                                   "email": "resident@example.org", "website": ""}),
        "manual value": ("/indicators/manual", {"indicator": "", "locality": north, "period_type": "month",
                                                "period_start": "2010-04", "value": "12.5", "note": ""}),
    }
    cases["task update"] = (f"/tasks/{task.id}/update", {
        "version": str(task.version_id), "text": "Visited", "link": "", "stage": task.stage,
        "status": task.status, "blocked_reason": "", "victim": "", "offender": "", "location": "",
        "assessment": "", "we_did": ""})
    cases["task"] = ("/tasks/new", {"title": "Litter", "problem": "Litter at the shop", "locality": wem,
                                    "lead_organisation": str(partner.organisation_id), "owner": str(partner.id),
                                    "priority": "medium", "action": _choice(Action),
                                    "due_on": (date.today() + timedelta(days=14)).strftime("%d/%m/%Y"),
                                    "concerns": str(concern.id) if concern else ""})
    if concern is not None:
        cases["concern status"] = (f"/concerns/{concern.id}/status", {
            "version": str(concern.version_id), "status": "accepted", "reason": "", "we_did": "",
            "responded_on": "", "public_reason": ""})
        cases["concern edit"] = (f"/concerns/{concern.id}/edit", {
            "version": str(concern.version_id), "category": category, "locality": wem, "street": "",
            "lat": "52.85", "lon": "-2.72", "you_said": "Litter by the shop", "internal_notes": "",
            "raised_count": "2", "public_reason": ""})
        cases["concern redaction"] = (f"/concerns/{concern.id}/redact", {
            "version": str(concern.version_id), "field": "you_said", "text": concern.you_said[:5]})
        cases["concern withdrawal"] = (f"/concerns/{concern.id}/withdraw", {
            "version": str(concern.version_id), "reason": "Asked by the resident"})
    cases["task withdrawal"] = (f"/tasks/{task.id}/withdraw", {"reason": "Cancelled"})
    cases["follow a place"] = ("/places/wem/follow", {"email": "pat@example.org"})
    cases.update(feedback_cases())
    return cases


def feedback_cases():
    """A resident's answer under a published "We did", and an officer's redaction of its comment."""
    from portal.feedback import services as feedback

    answered = db.session.execute(select(Concern).where(Concern.published.is_(True), Concern.we_did != "",
                                                        Concern.status == "responded").limit(1)).scalar()
    if answered is None:
        return {}
    row, _ = feedback.record_answer(answered.id, browser_id="f" * 32, answer="no", comment="Still the same")
    db.session.commit()
    return {"difference answer": (f"/you-said-we-did/{answered.id}/made-a-difference",
                                  {"answer": "no", "comment": "Nothing changed", "next": "/places/wem"}),
            "comment redaction": (f"/feedback/comments/{row.id}/redact", {"text": "Still", "next": ""})}


@pytest.mark.both_databases
def test_no_value_in_any_form_field_gives_a_server_error(app, backend):
    admin = Browser(app).sign_in(DEMO_EMAILS["admin"])
    cases = form_cases()
    assert {"concern", "pact meeting", "task", "task update", "tasking meeting", "user", "partner",
            "locality", "difference answer", "comment redaction"} <= set(cases)
    for _name, (url, valid) in cases.items():
        @given(changes=st.dictionaries(st.sampled_from(sorted(valid)), VALUE, min_size=1, max_size=4))
        @settings(FUZZ)
        def post(changes, url, valid):
            no_server_error(admin, url, valid | changes)

        post(url=url, valid=valid)
