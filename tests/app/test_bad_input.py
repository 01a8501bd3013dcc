"""Bad input gets a message or a 400/404, never a 500 (issue 12).

The walk covers every GET rule the app has, with hostile values in every path
argument and every query parameter the views read, signed in and not, on
SQLite and PostgreSQL.
"""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.concerns.models import Concern, ConcernCategory, PactMeeting
from portal.extensions import db
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking import tasks as tasking

from ..conftest import DEMO_EMAILS, Browser, text_of
from ..factories import one

HOSTILE = ("abc", "9" * 25, "-1", "0", "nan", "1e309", "0001-01", "9999-12", "0001-01-01", "9999-12-31",
           "31/12/9999", "01/01/0001", "link:abc", "x" * 300, "\x00", "%", "2010-13", " ")
# Every query parameter a view reads (request.args and the GET filter forms).
PARAMETERS = ("page", "category", "area", "locality", "status", "source", "priority", "date_from", "date_to",
              "sort", "mine", "q", "survey", "frequency", "period", "end", "length", "compare", "concern",
              "concerns", "service_code", "start_date", "end_date", "name", "next", "version")
PATH_VALUES = {"int": ("9" * 25, "0"), "default": ("9" * 25, "x" * 300, "\x00"), "string": ("9" * 25, "x" * 300)}


def get_rules(app):
    names = {v: k for k, v in app.url_map.converters.items()}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        yield rule, {name: names.get(type(rule._converters[name]), "default") for name in rule.arguments}


def urls(app, rule, kinds):
    from flask import url_for

    combos = [{}]
    for name, kind in kinds.items():
        combos = [dict(c, **{name: v}) for c in combos for v in PATH_VALUES.get(kind, PATH_VALUES["default"])]
    with app.test_request_context():
        for values in combos:
            try:
                yield url_for(rule.endpoint, **values)
            except Exception:  # an int converter refuses a value url_for cannot build: the router would 404
                continue


def sample_url(app, rule):
    from flask import url_for

    values = {name: 1 if kind == "int" else "north" for name, kind in get_kinds(app, rule).items()}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def get_kinds(app, rule):
    names = {v: k for k, v in app.url_map.converters.items()}
    return {name: names.get(type(rule._converters[name]), "default") for name in rule.arguments}


def failures(person, paths):
    found = []
    for path in paths:
        try:
            response = person.get(path)
            response.get_data()  # a streamed CSV fails while it streams
            response.close()
        except Exception as error:  # TESTING propagates exceptions: an unhandled one would be a 500
            found.append(f"{path[:120]}: {type(error).__name__}: {str(error)[:160]}")
            continue
        if response.status_code >= 500:
            found.append(f"{path[:120]}: {response.status_code}")
    return found


ALONE = "9" * 25  # each parameter on its own too, so one refusal cannot hide another


@pytest.mark.both_databases
def test_no_route_answers_hostile_path_and_query_values_with_a_500(app, backend):
    """Public routes as a resident, every other route as an admin (who may use them all)."""
    from urllib.parse import quote, urlencode

    from portal.access import PUBLIC, rule_for

    resident, admin = Browser(app), Browser(app).sign_in(DEMO_EMAILS["admin"])
    paths = {resident: [], admin: []}
    for rule, kinds in get_rules(app):
        if rule.endpoint == "people.login":
            continue
        base = sample_url(app, rule)
        walk = paths[resident if PUBLIC in rule_for(rule.endpoint) else admin]
        walk.extend(urls(app, rule, kinds))
        walk.extend(f"{base}?{name}={quote(ALONE)}" for name in PARAMETERS)
        walk.extend(f"{base}?{urlencode({name: value for name in PARAMETERS if name != 'page'})}"
                    for value in HOSTILE)
    assert failures(resident, paths[resident]) + failures(admin, paths[admin]) == []


# ---- forms and files: a message naming the field, nothing half-saved ---------------------------------------


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def meeting(rows, **extra):
    category = one(ConcernCategory, name="ENVIRONMENTAL - GRAFFITI").id
    data = {"locality": str(one(Locality, key="wem").id), "held_on": "12/03/2010", "venue": "Wem Town Hall"}
    for i in range(rows):
        data.update({f"concerns-{i}-category": str(category), f"concerns-{i}-you_said": f"Graffiti number {i}"})
    return data | extra


def test_a_meeting_form_with_more_than_30_concerns_is_refused_whole(app, as_role):
    officer = as_role("officer")
    before = count(Concern), count(PactMeeting)
    response = officer.post("/concerns/meetings/new", meeting(31))
    assert response.status_code == 400
    assert "A meeting form holds at most 30 concerns: nothing was saved" in text_of(response)
    assert (count(Concern), count(PactMeeting)) == before
    response = officer.post("/concerns/meetings/new", meeting(30, add_row="1"))
    assert response.status_code == 400 and "at most 30 concerns" in text_of(response)


@pytest.mark.both_databases
def test_damaged_hidden_values_are_messages_not_errors(app, backend, as_role):
    officer = as_role("officer")
    for repeat in ("link:abc", "link:" + "9" * 25, "link:²"):
        response = officer.post("/concerns/meetings/new", meeting(1, **{"concerns-0-repeat": repeat}))
        assert response.status_code == 400
        assert "Choose whether this is the same problem as the open concern" in text_of(response)
    response = officer.post("/concerns/new", {
        "source": "resident_contact", "raised_on": "12/03/2010", "you_said": "Litter", "repeat": "link:abc",
        "category": str(one(ConcernCategory, name="ENVIRONMENTAL - GRAFFITI").id),
        "locality": str(one(Locality, key="wem").id)})
    assert response.status_code == 400 and "same problem as the open concern" in text_of(response)
    partner = one(User, email=DEMO_EMAILS["partner"])
    task = tasking.create_task(by=one(User, email=DEMO_EMAILS["officer"]), title="Litter", problem="Litter",
                               locality_id=one(Locality, key="wem").id, owner_id=partner.id,
                               lead_organisation_id=partner.organisation_id, due_on=date.today() + timedelta(days=9))
    db.session.commit()
    for version in ("abc", "9" * 25):
        response = officer.post(f"/tasks/{task.id}/update", {"version": version, "text": "Visited",
                                                             "stage": "scanning", "status": "open"})
        assert response.status_code in (400, 409)
    assert [u.text for u in task.updates if u.text == "Visited"] == []


@pytest.mark.both_databases
@pytest.mark.parametrize("field, value, message", [
    ("held_on", "01/01/0001", "Date of the meeting must be on or after 1 January 2000"),
    ("held_on", "1999-12-31", "Date of the meeting must be on or after 1 January 2000"),
    ("held_on", "31/12/9999", "Date of the meeting must be today or in the past"),
    ("next_meeting_on", "9999-12-31", "Date of the next meeting (optional) must be within 2 years from today"),
    ("concerns-0-lat", "nan", "Latitude (optional): enter a number"),
    ("concerns-0-lon", "inf", "Longitude (optional): enter a number"),
])
def test_out_of_range_dates_and_numbers_name_the_field(app, backend, as_role, field, value, message):
    before = count(Concern)
    response = as_role("officer").post("/concerns/meetings/new", meeting(1, **{field: value}))
    assert response.status_code == 400
    assert message in text_of(response)
    assert count(Concern) == before


@pytest.mark.both_databases
def test_text_that_grows_past_its_column_is_a_message(app, backend, as_role):
    admin = as_role("admin")
    response = admin.post("/concerns/categories", {"group": "Environment", "name": "ß" * 150})  # SS in capitals
    assert response.status_code == 400 and "longer than 160 characters" in text_of(response)
    response = admin.post("/admin/users/new", {"display_name": "Long", "email": "a" * 250 + "@example.org",
                                               "role": "analyst", "password": "a-long-enough-password"})
    assert response.status_code == 400 and "at most 254 characters" in text_of(response)
    response = admin.post("/admin/localities/new", {"name": "Big", "key": "big", "level": "ward",
                                                    "population": "9" * 25})
    assert response.status_code == 400 and "Enter a population up to 10,000,000" in text_of(response)


SURVEY_HEADER = b"survey,period,area,topic,rank,percentage\n"


@pytest.mark.both_databases
@pytest.mark.parametrize("row, message", [
    (b"S,2010,north," + b"n" * 300_000 + b",1,\n", "big.csv, row 3: is not valid CSV (field larger than field limit"),
    (b"S,2010,north," + b"n" * 201 + b",1,\n",
     "big.csv, row 3, column 'topic': is 201 characters long; at most 200 fit"),
    (b"S" * 161 + b",2010,north,Noise,1,\n", "big.csv, row 3, column 'survey': is 161 characters long"),
    (b"S,2010,north,Noise," + b"9" * 25 + b",\n", f"big.csv, row 3, column 'rank': '{'9' * 25}' is more than"),
    (b"S,2010,north,No\x00ise,1,\n", "big.csv, row 3, column 'topic': holds a NUL character"),
])
def test_a_survey_file_with_an_oversized_value_is_refused_whole(app, backend, as_role, row, message):
    from portal.concerns.models import SurveyResult

    before = count(SurveyResult)
    response = as_role("analyst").post("/concerns/survey/import", {
        "file": (io.BytesIO(SURVEY_HEADER + b"S,2010,north,Litter,2,\n" + row), "big.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert (message if isinstance(message, str) else message.decode()) in text_of(response)
    assert count(SurveyResult) == before
