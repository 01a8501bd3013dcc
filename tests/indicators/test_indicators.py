"""The indicator engine against figures computed by hand from the real police.uk files."""
import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from portal.config import ROOT
from portal.crime.services import import_paths
from portal.extensions import db
from portal.indicators import engine, services
from portal.indicators.models import IndicatorValue
from portal.places.models import Locality
from portal.plan.models import IndicatorDefinition

from ..conftest import text_of

POLICE = ROOT / "seed" / "police"
LOCALITIES = json.loads((ROOT / "seed" / "localities.json").read_text())["localities"]
SAC = {"Burglary", "Vehicle crime", "Robbery"}


def by_hand(month, lsoas, types):
    """Rows of the month's file in these LSOAs and categories, counted with the csv module alone."""
    with open(POLICE / f"{month}-west-mercia-street.csv", newline="", encoding="utf-8") as fh:
        return sum(1 for r in csv.DictReader(fh) if r["LSOA code"] in lsoas and r["Crime type"] in types)


def seed_locality(key):
    return next(loc for loc in LOCALITIES if loc["key"] == key)


def value(code, key, period_type, start):
    return db.session.execute(select(IndicatorValue).join(IndicatorValue.indicator).join(IndicatorValue.locality).where(
        IndicatorDefinition.code == code, Locality.key == key, IndicatorValue.period_type == period_type,
        IndicatorValue.period_start == start)).scalar_one()


@pytest.mark.both_databases
def test_serious_acquisitive_crime_matches_the_files_counted_by_hand(app, backend):
    engine.rollup(date(2018, 10, 1), date(2018, 11, 1))
    county, ludlow = seed_locality("shropshire"), seed_locality("ludlow")
    for key, loc in (("shropshire", county), ("ludlow", ludlow)):
        lsoas = set(loc["lsoa_codes"])
        nov = by_hand("2018-11", lsoas, SAC)
        oct_ = by_hand("2018-10", lsoas, SAC)
        row = value("ni16-serious-acquisitive-crime-rate", key, "month", date(2018, 11, 1))
        assert row.numerator == nov
        assert row.denominator == loc["population"]
        assert row.value == pytest.approx(nov * 1000 / loc["population"])
        rolling = value("ni16-serious-acquisitive-crime-rate", key, "rolling_12", date(2017, 12, 1))
        assert (rolling.numerator, rolling.months) == (oct_ + nov, 2)
        quarter = value("ni16-serious-acquisitive-crime-rate", key, "quarter", date(2018, 10, 1))
        assert quarter.numerator == oct_ + nov


@pytest.mark.both_databases
def test_the_rollup_is_idempotent(app, backend):
    def snapshot():
        return sorted(db.session.execute(select(
            IndicatorValue.indicator_id, IndicatorValue.locality_id, IndicatorValue.period_type,
            IndicatorValue.period_start, IndicatorValue.numerator, IndicatorValue.value,
            IndicatorValue.previous_value)).all())

    engine.rollup(date(2018, 10, 1), date(2018, 11, 1))
    first = snapshot()
    engine.rollup(date(2018, 10, 1), date(2018, 11, 1))
    assert snapshot() == first and len(first) > 1000


def test_change_on_last_year_uses_the_same_period_a_year_earlier(app, tmp_path):
    """A year-earlier month made of October 2018's real rows without its burglaries."""
    with open(POLICE / "2018-10-west-mercia-street.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    earlier = [rows[0]] + [r[:1] + ["2017-10"] + r[2:] for r in rows[1:] if r[9] != "Burglary"]
    path = tmp_path / "2017-10-west-mercia-street.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(earlier)
    import_paths([path])
    engine.rollup(date(2017, 10, 1), date(2018, 11, 1))
    lsoas = set(seed_locality("shropshire")["lsoa_codes"])
    now_n = by_hand("2018-10", lsoas, SAC)
    before_n = by_hand("2018-10", lsoas, SAC - {"Burglary"})
    row = value("ni16-serious-acquisitive-crime-rate", "shropshire", "month", date(2018, 10, 1))
    assert row.previous_value == pytest.approx(before_n * 1000 / 306129)
    assert row.change_pct == pytest.approx(100 * (now_n - before_n) / before_n)


def test_rag_follows_the_trajectory_and_the_polarity(app):
    ni16 = db.session.execute(
        select(IndicatorDefinition).filter_by(code="ni16-serious-acquisitive-crime-rate")).scalar_one()
    assert services.trajectory(ni16, date(2010, 4, 1)) == pytest.approx(ni16.baseline)
    assert services.trajectory(ni16, date(2011, 3, 31)) == pytest.approx(ni16.target)
    assert services.trajectory(ni16, date(2018, 12, 1)) == pytest.approx(ni16.target)
    halfway = services.trajectory(ni16, date(2010, 9, 30))
    assert ni16.target < halfway < ni16.baseline

    def Row(value):
        return IndicatorValue(period_type="rolling_12", months=12, period_end=date(2011, 2, 1), value=value,
                              entered_by_hand=False)

    expected = services.trajectory(ni16, date(2011, 3, 1))
    assert services.rag(ni16, Row(expected)) == "Green"
    assert services.rag(ni16, Row(expected * 1.03)) == "Amber"  # within the 5% tolerance
    assert services.rag(ni16, Row(expected * 1.10)) == "Red"
    satisfaction = db.session.execute(select(IndicatorDefinition).filter_by(code="we-did-within-28-days")).scalar_one()
    assert services.rag(satisfaction, Row(90)) == "Green" and services.rag(satisfaction, Row(70)) == "Red"


def test_the_share_of_concerns_answered_within_28_days(app):
    engine.rollup(date(2008, 10, 1), date(2009, 9, 1), sources=("portal",))
    with open(ROOT / "seed" / "demo_pact_concerns_2008_09.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if "2008-04" <= r["held_on"][:7] <= "2009-03"]
    answered = sum(1 for r in rows if r["published"] == "yes")  # the demo answers in 21 days
    row = value("we-did-within-28-days", "shropshire", "financial_year", date(2008, 4, 1))
    assert (row.numerator, row.denominator) == (answered, len(rows))
    assert row.value == pytest.approx(100 * answered / len(rows))


def test_the_pmcg_report_shows_values_targets_rag_and_exports(app, as_role):
    analyst = as_role("analyst")
    page = text_of(analyst.get("/indicators/?frequency=monthly&period=2018-11-01&locality=shropshire"))
    row = value("ni16-serious-acquisitive-crime-rate", "shropshire", "month", date(2018, 11, 1))
    assert "NI 16" in page and f"{row.value:.2f}" in page and "8.44" in page
    assert "Drill down: Central , North , South" in page
    response = analyst.get("/indicators/report.csv?frequency=monthly&period=2018-11-01&locality=north")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    ni16 = next(r for r in rows if r["ni_code"] == "NI 16")
    north = value("ni16-serious-acquisitive-crime-rate", "north", "month", date(2018, 11, 1))
    assert float(ni16["value"]) == pytest.approx(north.value, abs=1e-4) and ni16["locality"] == "North"
    assert ni16["rag"] in ("Red", "Amber", "Green")


def test_an_analyst_enters_a_survey_figure_and_it_is_audited(app, as_role):
    analyst = as_role("analyst")
    ni5 = db.session.execute(
        select(IndicatorDefinition).filter_by(code="ni5-satisfaction-with-local-area")).scalar_one()
    county = db.session.execute(select(Locality).filter_by(key="shropshire")).scalar_one()
    form = {"indicator": str(ni5.id), "locality": str(county.id), "period_type": "financial_year",
            "period_start": "2010-04", "value": "84.5", "note": "Place Survey 2010"}
    assert analyst.post("/indicators/manual", form | {"value": "140"}).status_code == 400
    assert analyst.post("/indicators/manual", form).status_code == 302
    assert value("ni5-satisfaction-with-local-area", "shropshire", "financial_year", date(2010, 4, 1)).value == 84.5
    page = text_of(analyst.get("/indicators/manual"))
    assert "Ann Analyst" in page and "Place Survey 2010" in page


def test_the_strategic_assessment_computes_the_change_by_crime_type(app, as_role):
    lsoas = set(seed_locality("shropshire")["lsoa_codes"])
    kinds = {"Violence and sexual offences", "Burglary", "Vehicle crime", "Robbery", "Criminal damage and arson",
             "Other theft", "Shoplifting", "Drugs", "Public order", "Bicycle theft", "Other crime",
             "Possession of weapons", "Theft from the person"}
    now, before = by_hand("2018-11", lsoas, kinds), by_hand("2018-10", lsoas, kinds)
    change = 100 * (now - before) / before
    page = text_of(as_role("officer").get("/crime/assessment?end=2018-11&length=1&compare=previous"))
    word = "fell" if change < 0 else "rose"
    assert f"Shropshire: performance for November 2018 to November 2018 compared with the months just before " \
           f"(October 2018 to October 2018) shows that all recorded crime {word} by {abs(change):.2f}%" in page
    assert "Vulnerable localities" in page and "Quarry and Coton Hill" in page


def test_crime_rises_reach_the_tasking_agenda_and_rates_the_locality_page(app, browser):
    from portal.tasking.agenda import build_agenda

    north = db.session.execute(select(Locality).filter_by(key="north")).scalar_one()
    rises = [s for kind, s, _, _ in build_agenda(north, date(2018, 12, 5)) if kind == "crime_rise"]
    lsoas = set(seed_locality("north")["lsoa_codes"])
    first = rises[0]
    kind = first.split(" rose by ")[0]
    now, before = by_hand("2018-11", lsoas, {kind}), by_hand("2018-10", lsoas, {kind})
    assert f"{kind} rose by {now - before} in November 2018 ({before} to {now})" in first
    page = text_of(browser.get("/places/ludlow"))
    assert "Recorded crime, Oct 2018 to Nov 2018:" in page and "across Shropshire" in page
