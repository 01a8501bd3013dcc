"""Every date is typed as the GOV.UK date input: Day, Month and Year boxes in a fieldset (issue 13)."""
import importlib
import re
from datetime import date, timedelta

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import DateField

from portal.concerns.models import Concern, ConcernCategory
from portal.config import ROOT
from portal.extensions import db
from portal.forms import DateTextField, GovukDateField
from portal.places.models import Locality
from portal.plan.models import IndicatorDefinition
from tests.conftest import text_of

WHAT_WAS_SAID = "A run of shed break-ins behind the church"


def concern(**dates):
    category = db.session.execute(select(ConcernCategory).order_by(ConcernCategory.id)).scalars().first()
    locality = db.session.execute(select(Locality).filter_by(key="oswestry")).scalar_one()
    return {"source": "partner_referral", "category": str(category.id), "you_said": WHAT_WAS_SAID,
            "locality": str(locality.id), "raised_count": "1", **dates}


def saved():
    return db.session.execute(select(Concern).filter_by(you_said=WHAT_WAS_SAID)).scalars().all()


def test_a_concern_logged_with_day_month_and_year_keeps_that_date(app, as_role):
    response = as_role("officer").post("/concerns/new", concern(**{
        "raised_on-day": "5", "raised_on-month": "12", "raised_on-year": "2018"}))
    assert response.status_code == 302
    assert [c.raised_on for c in saved()] == [date(2018, 12, 5)]


@pytest.mark.parametrize("value", ["05/12/2018", "2018-12-05"])
def test_the_old_single_value_still_works(app, as_role, value):
    response = as_role("officer").post("/concerns/new", concern(raised_on=value))
    assert response.status_code == 302
    assert [c.raised_on for c in saved()] == [date(2018, 12, 5)]


def test_the_parts_win_over_the_single_value(app, as_role):
    response = as_role("officer").post("/concerns/new", concern(**{
        "raised_on": "01/01/2011", "raised_on-day": "5", "raised_on-month": "12", "raised_on-year": "2018"}))
    assert response.status_code == 302
    assert [c.raised_on for c in saved()] == [date(2018, 12, 5)]


next_year = date.today().year + 1


@pytest.mark.parametrize("day, month, year, message, part", [
    ("5", "", "2018", "Date raised must include a month", "month"),
    ("31", "2", "2026", "Date raised must be a real date", "day"),
    ("1", "1", str(next_year), "Date raised must be today or in the past", "day"),
    ("5", "12", "18", "Date raised must include a year with 4 numbers, like 2026", "year"),
])
def test_a_wrong_date_names_the_field_and_the_part_and_saves_nothing(app, as_role, day, month, year, message, part):
    response = as_role("officer").post("/concerns/new", concern(**{
        "raised_on-day": day, "raised_on-month": month, "raised_on-year": year}))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in text_of(response)
    summary = html[html.index("govuk-error-summary"):html.index("</ul>", html.index("govuk-error-summary"))]
    assert f'<a href="#raised_on-{part}">{message}</a>' in summary
    assert re.search(rf'class="[^"]*govuk-input--error[^"]*" id="raised_on-{part}"', html)
    assert f'value="{day}"' in html and f'value="{year}"' in html  # what was typed is shown again
    assert saved() == []


def test_a_missing_month_highlights_only_the_month(app, as_role):
    html = as_role("officer").post("/concerns/new", concern(**{
        "raised_on-day": "5", "raised_on-month": "", "raised_on-year": "2018"})).get_data(as_text=True)
    errored = re.findall(r'govuk-input--error" id="(raised_on-\w+)"', html)
    assert errored == ["raised_on-month"]


def test_the_date_input_is_three_labelled_boxes_in_a_fieldset(app, as_role):
    html = as_role("officer").get("/concerns/new").get_data(as_text=True)
    start = html.index('<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Date raised</legend>')
    fieldset = html[html.rindex("<fieldset", 0, start):html.index("</fieldset>", start)]
    assert 'role="group"' in fieldset and "For example, 27 3 2026" in fieldset
    inputs = re.findall(r"<input [^>]*>", fieldset)
    assert len(inputs) == 3
    for part, label, width in (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4)):
        assert f'<label class="govuk-label govuk-date-input__label" for="raised_on-{part}">{label}</label>' in fieldset
        box = next(i for i in inputs if f'id="raised_on-{part}"' in i)
        assert f'name="raised_on-{part}"' in box and 'type="text"' in box and 'inputmode="numeric"' in box
        assert f"govuk-input--width-{width}" in box and "autocomplete" not in box
    today = date.today()
    assert f'value="{today.day}"' in inputs[0] and f'value="{today.year}"' in inputs[2]  # the default, today


def test_a_month_field_has_month_and_year_only(app, as_role):
    html = as_role("analyst").get("/indicators/manual").get_data(as_text=True)
    assert 'id="period_start-month"' in html and 'id="period_start-year"' in html
    assert 'id="period_start-day"' not in html


def form_pages(app):
    code = db.session.execute(select(IndicatorDefinition.code).order_by(IndicatorDefinition.id)).scalars().first()
    return {"officer": ["/concerns/new", "/concerns/meetings/new", "/concerns/1", "/concerns/", "/concerns/?mine=1",
                        "/concerns/top-categories", "/tasks/new", "/tasking/meetings/new"],
            "analyst": ["/indicators/manual", f"/indicators/{code}"],
            "admin": [f"/indicators/{code}"]}


def test_no_form_page_has_a_native_date_picker(app, as_role, browser):
    date_inputs = 0
    for role, paths in form_pages(app).items():
        signed_in = as_role(role)
        for path in paths:
            response = signed_in.get(path)
            html = response.get_data(as_text=True)
            assert response.status_code == 200, path
            assert not re.search(r"type=[\"']?(date|month)\b", html), path
            date_inputs += html.count('class="govuk-date-input"')
    for path in ("/", "/you-said-we-did"):
        html = browser.get(path).get_data(as_text=True)
        assert not re.search(r"type=[\"']?(date|month)\b", html), path
    assert date_inputs >= 12
    for template in (ROOT / "templates").rglob("*.html"):
        assert not re.search(r"type=[\"']?(date|month)\b", template.read_text()), template


def test_every_date_field_is_a_date_input():
    """A plain DateField renders <input type="date">: only the residents' single-box filters remain."""
    plain = []
    for feature in ("concerns", "tasking", "indicators", "public", "people", "partners", "places", "plan"):
        try:
            module = importlib.import_module(f"portal.{feature}.forms")
        except ModuleNotFoundError:
            continue
        for form in vars(module).values():
            if isinstance(form, type) and issubclass(form, FlaskForm):
                for name, unbound in vars(form).items():
                    kind = getattr(unbound, "field_class", None)
                    if kind and issubclass(kind, DateField) and not issubclass(kind, GovukDateField):
                        plain.append((form.__name__, name, kind))
    assert all(kind is DateTextField and form == "PublicFilterForm" for form, _, kind in plain), plain


def test_a_pact_meeting_date_by_parts_and_a_wrong_next_meeting(app, as_role):
    officer = as_role("officer")
    locality = db.session.execute(select(Locality).filter_by(key="wem")).scalar_one()
    before = db.session.scalar(select(func.count()).select_from(Concern))
    far = date.today() + timedelta(days=3 * 365)
    response = officer.post("/concerns/meetings/new", {
        "locality": str(locality.id), "held_on-day": "14", "held_on-month": "3", "held_on-year": "2010",
        "next_meeting_on-day": str(far.day), "next_meeting_on-month": str(far.month),
        "next_meeting_on-year": str(far.year), "attendance": "3",
        "concerns-0-category": str(db.session.execute(select(ConcernCategory.id)).scalars().first()),
        "concerns-0-you_said": "Speeding on the high street", "concerns-0-raised_count": "1"})
    assert response.status_code == 400
    assert "Date of the next meeting (optional) must be within 2 years from today" in text_of(response)
    assert 'href="#next_meeting_on-day"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Concern)) == before
