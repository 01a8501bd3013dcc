"""Indicator figures as an analyst meets them over a year: police.uk months imported one at a time, out of
order and again, quarters with one month in them, files with repeated Crime IDs, portal work not yet due,
proxies, relative targets and edited targets. Expected figures come from the real rows in seed/police,
counted with the csv module or straight from the stored rows, never from the engine itself."""
import csv
import io
import json
import random
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from portal.config import ROOT
from portal.crime.models import CrimeImport, CrimeMonthlyCount, CrimeRecord
from portal.crime.services import import_paths
from portal.extensions import db
from portal.indicators import engine, services
from portal.indicators.models import IndicatorValue
from portal.indicators.periods import add_months
from portal.places.models import Locality
from portal.plan.models import IndicatorDefinition

from ..conftest import text_of
from ..factories import logged_concern, one, user

POLICE = ROOT / "seed" / "police"
LOCALITIES = {loc["key"]: loc for loc in json.loads((ROOT / "seed" / "localities.json").read_text())["localities"]}
SAC = {"Burglary", "Vehicle crime", "Robbery"}
NOT_ASB = lambda kind: kind != "Anti-social behaviour"  # noqa: E731


def real_rows(month="2018-10"):
    with open(POLICE / f"{month}-west-mercia-street.csv", newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + rows)
    return path



def by_hand(rows, lsoas, keep):
    """Rows in these LSOAs whose crime type passes ``keep``, counted in Python."""
    return sum(1 for r in rows if r[7] in lsoas and keep(r[9]))


def value(code, key, period_type, start):
    return db.session.execute(select(IndicatorValue).join(IndicatorValue.indicator).join(IndicatorValue.locality)
                              .where(IndicatorDefinition.code == code, Locality.key == key,
                                     IndicatorValue.period_type == period_type,
                                     IndicatorValue.period_start == start)).scalar_one_or_none()


def snapshot(source=None):
    """Every indicator value (of one source) as the report reads it (not when it was computed)."""
    query = select(
        IndicatorValue.indicator_id, IndicatorValue.locality_id, IndicatorValue.period_type,
        IndicatorValue.period_start, IndicatorValue.period_end, IndicatorValue.numerator, IndicatorValue.value,
        IndicatorValue.months, IndicatorValue.previous_value, IndicatorValue.previous_months,
        IndicatorValue.entered_by_hand)
    if source:
        query = query.join(IndicatorValue.indicator).where(IndicatorDefinition.source == source)
    return sorted(db.session.execute(query).all(), key=repr)


def from_scratch(source="police_crime"):
    db.session.execute(delete(IndicatorValue).where(IndicatorValue.indicator_id.in_(
        select(IndicatorDefinition.id).where(IndicatorDefinition.source == source))))
    db.session.commit()
    engine.rollup(sources=(source,))
    return snapshot(source)


def differences(left, right, shown=5):
    a, b = set(left), set(right)
    return f"only incremental: {sorted(a - b, key=repr)[:shown]}; only from scratch: {sorted(b - a, key=repr)[:shown]}"


# ---- police.uk files as they are published ------------------------------------------------------------

@pytest.mark.both_databases
def test_records_sharing_a_crime_id_are_all_imported_and_noted(app, backend, tmp_path):
    header, rows = real_rows()
    shropshire = set(LOCALITIES["shropshire"]["lsoa_codes"])
    ours = [r for r in rows if r[7] in shropshire][:300]
    # police.uk's own quirk: a second record with the same Crime ID, another place and outcome.
    twin = list(next(r for r in ours if r[0] and r[9] == "Burglary"))
    twin[4], twin[5], twin[10] = str(float(twin[4]) + 0.001), str(float(twin[5]) + 0.001), "Under investigation"
    path = write(tmp_path / "2018-10-repeats.csv", header, ours + [twin])

    runs, errors = import_paths([path])
    assert errors == [] and len(runs) == 1
    run = runs[0]
    assert run.rows == len(ours) + 1 and run.repeated_ids == 1
    twin_row = len(ours) + 2  # header is row 1
    first_row = ours.index(next(r for r in ours if r[0] == twin[0])) + 2
    assert f"rows {first_row}, {twin_row} share Crime ID {twin[0][:12]}" in run.quality_note
    stored = db.session.execute(select(func.count()).select_from(CrimeRecord).where(
        CrimeRecord.crime_id == twin[0])).scalar()
    assert stored == 2
    engine.rollup(date(2018, 10, 1), date(2018, 10, 1))
    burglary = value("domestic-burglary-rate", "shropshire", "month", date(2018, 10, 1))
    assert burglary.numerator == by_hand(ours + [twin], shropshire, lambda k: k == "Burglary")


def test_the_import_page_and_the_cli_report_repeated_ids(app, as_role, tmp_path):
    header, rows = real_rows()
    ours = rows[:200]
    twin = list(next(r for r in ours if r[0]))
    path = write(tmp_path / "2018-10-repeats.csv", header, ours + [twin])
    result = app.test_cli_runner().invoke(args=["crime", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Data quality: 1 Crime ID appear" in result.output or "Data quality: 1 Crime ID" in result.output
    page = text_of(as_role("analyst").get("/crime/imports"))
    assert "Data quality: 1 Crime ID" in page and "every row was imported and counted" in page


def test_a_structurally_broken_file_is_still_refused_with_file_row_and_column(app, tmp_path):
    header, rows = real_rows()
    rows = [list(r) for r in rows[:30]]
    rows[4][5] = "north"
    runs, errors = import_paths([write(tmp_path / "broken.csv", header, rows)])
    assert runs == [] and errors[0].message.startswith("broken.csv, row 6, column 'Latitude'")


def monthly_file(tmp_path, month, version, header, pool):
    """A month made of real Shropshire rows: ``version`` picks which (a republished month differs)."""
    chooser = random.Random(f"{month}/{version}")
    rows = [r[:1] + [f"{month:%Y-%m}"] + r[2:] for r in chooser.sample(pool, 60 + 20 * version)]
    return write(tmp_path / f"{month:%Y-%m}-v{version}.csv", header, rows)


# Months across a quarter, a half year and a financial-year boundary, and a year apart (change on last year).
MONTHS = [date(2017, 10, 1), date(2018, 2, 1), date(2018, 3, 1), date(2018, 4, 1), date(2018, 10, 1),
          date(2018, 11, 1), date(2019, 3, 1)]
imports = st.lists(st.tuples(st.sampled_from(MONTHS), st.integers(0, 2)), min_size=1, max_size=6)


@pytest.mark.both_databases
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=imports)
@example(sequence=[(date(2018, 10, 1), 0), (date(2017, 10, 1), 1)])
def test_incremental_rollups_in_any_order_equal_a_rollup_from_scratch(app, backend, tmp_path, sequence):
    """Imports, replacements and backfills in random order, each followed by the rollup the import task
    runs (its own months only), give exactly the values of a rollup from scratch over the stored rows."""
    for table in (IndicatorValue, CrimeMonthlyCount, CrimeRecord, CrimeImport):
        db.session.execute(delete(table))
    db.session.commit()
    header, rows = real_rows()
    pool = [r for r in rows if r[7] in set(LOCALITIES["shropshire"]["lsoa_codes"])]
    for month, version in sequence:
        runs, errors = import_paths([monthly_file(tmp_path, month, version, header, pool)])
        assert errors == []
        engine.rollup(month, month, sources=("police_crime",))
        incremental, scratch = snapshot("police_crime"), from_scratch()
        assert incremental == scratch, f"after {month:%Y-%m} v{version} of {sequence}: " + differences(
            incremental, scratch)
    # And against the stored rows themselves, counted without the monthly counts table.
    ni16 = one(IndicatorDefinition, code="ni16-serious-acquisitive-crime-rate")
    sac = {"burglary", "vehicle-crime", "robbery"}
    for row in db.session.execute(select(IndicatorValue).join(IndicatorValue.locality).where(
            IndicatorValue.indicator_id == ni16.id, Locality.key == "shropshire")).scalars():
        months = [m for m in MONTHS if row.period_start <= m <= row.period_end]
        stored = db.session.execute(select(func.count()).select_from(CrimeRecord).where(
            CrimeRecord.month.in_(months), CrimeRecord.crime_type.in_(sac),
            CrimeRecord.locality_id.is_not(None))).scalar()
        held = db.session.execute(select(func.count(func.distinct(CrimeRecord.month))).where(
            CrimeRecord.month.in_(months))).scalar()
        assert (row.numerator, row.months) == (stored, held), (row.period_type, row.period_start)


def test_reimporting_an_older_month_keeps_the_later_months_in_its_quarter(app, tmp_path):
    """The defect as an analyst met it: Oct and Nov loaded, then Oct republished."""
    header, rows = real_rows()
    _, november = real_rows("2018-11")
    shropshire = set(LOCALITIES["shropshire"]["lsoa_codes"])
    oct_path = write(tmp_path / "2018-10.csv", header, rows)
    import_paths([POLICE / "2018-11-west-mercia-street.csv"])  # already seeded; loaded again
    import_paths([oct_path])
    engine.rollup(date(2018, 10, 1), date(2018, 10, 1), sources=("police_crime",))
    quarter = value("ni16-serious-acquisitive-crime-rate", "shropshire", "quarter", date(2018, 10, 1))
    assert quarter.numerator == by_hand(rows, shropshire, SAC.__contains__) + by_hand(november, shropshire,
                                                                                    SAC.__contains__)
    assert quarter.months == 2
    rolling = value("ni16-serious-acquisitive-crime-rate", "shropshire", "rolling_12", date(2017, 12, 1))
    assert rolling is not None and rolling.months == 2  # the window ending in November survived


# ---- periods that are not complete yet -----------------------------------------------------------------

@pytest.mark.both_databases
def test_a_quarter_with_one_month_is_annualised_by_that_month_and_marked_provisional(app, backend, as_role):
    db.session.execute(delete(CrimeMonthlyCount).where(CrimeMonthlyCount.month == date(2018, 11, 1)))
    db.session.execute(delete(CrimeRecord).where(CrimeRecord.month == date(2018, 11, 1)))
    db.session.execute(delete(IndicatorValue))
    db.session.commit()
    engine.rollup()
    _, rows = real_rows()
    county = LOCALITIES["shropshire"]
    n = by_hand(rows, set(county["lsoa_codes"]), SAC.__contains__)
    annual = n * 1000 / county["population"] * 12  # one month of data, x 12 / 1
    ni16 = one(IndicatorDefinition, code="ni16-serious-acquisitive-crime-rate")
    expected_rag = "Green" if annual <= ni16.target else "Amber" if annual <= ni16.target * 1.05 else "Red"

    analyst = as_role("analyst")
    page = text_of(analyst.get("/indicators/?frequency=quarterly&period=2018-10-01&locality=shropshire"))
    assert f"{annual:.2f} a year" in page and "1 of 3 months of data" in page
    assert f"{expected_rag} provisional, 1 of 3 months" in page
    csv_rows = list(csv.DictReader(io.StringIO(analyst.get(
        "/indicators/report.csv?frequency=quarterly&period=2018-10-01&locality=shropshire").get_data(as_text=True))))
    row = next(r for r in csv_rows if r["indicator"] == ni16.name)
    assert float(row["annualised"]) == pytest.approx(annual, abs=1e-3)
    assert (row["months_with_data"], row["months_in_period"]) == ("1", "3")
    assert row["rag"] == expected_rag and row["rag_marks"] == "provisional, 1 of 3 months"
    trend = services.trend(ni16.id, one(Locality, key="shropshire").id, "quarter")
    assert trend["provisional"][-1] is True and trend["values"][-1] == pytest.approx(annual)


@pytest.mark.both_databases
def test_the_assessment_covers_the_latest_twelve_months_and_annualises_by_the_months_with_data(
        app, backend, as_role, browser):
    _, october = real_rows("2018-10")
    _, november = real_rows("2018-11")
    page = text_of(as_role("officer").get("/crime/assessment"))
    assert "December 2017 to November 2018 compared with the same months a year earlier" in page
    assert "police data for 2 of its 12 months (Oct 2018 to Nov 2018)" in page
    ward = LOCALITIES["quarry-and-coton-hill"] if "quarry-and-coton-hill" in LOCALITIES else next(
        loc for loc in LOCALITIES.values() if loc["name"] == "Quarry and Coton Hill")
    lsoas = set(ward["lsoa_codes"])
    crimes = by_hand(october, lsoas, NOT_ASB) + by_hand(november, lsoas, NOT_ASB)
    population = one(Locality, key=ward["key"]).population
    rate = crimes * 1000 / population * 12 / 2
    assert f"{ward['name']} {crimes} {rate:.1f}" in page
    # The locality page computes the same rate with the same function.
    assert f"{rate:.1f} per 1,000 residents a year in {ward['name']}" in text_of(browser.get(f"/places/{ward['key']}"))
    previous = text_of(as_role("officer").get("/crime/assessment?compare=previous&length=1"))
    assert "compared with the months just before" in previous


def test_the_report_opens_on_the_latest_period_with_police_data(app, as_role):
    analyst = as_role("analyst")
    page = text_of(analyst.get("/indicators/"))
    assert "Delivery plan indicators: Shropshire, Nov 2018" in page
    quarterly = text_of(analyst.get("/indicators/?frequency=quarterly"))
    assert "Shropshire, Q3 2018-19" in quarterly
    assert "Change on the same period a year earlier" in page


# ---- the portal's own indicators ---------------------------------------------------------------------

def this_year_window():
    """The rolling 12 months ending this month (the demo's own concerns are from 2008-09)."""
    return add_months(date.today().replace(day=1), -11)


def test_concerns_not_yet_28_days_old_are_not_counted_as_failures(app):
    logged_concern(3)  # not due yet: neither success nor failure
    logged_concern(5, answered_after=2)  # answered in time
    logged_concern(40)  # 28 days passed, no answer: a failure
    logged_concern(60, answered_after=35)  # answered late: a failure
    engine.rollup(sources=("portal",))
    row = value("we-did-within-28-days", "shropshire", "rolling_12", this_year_window())
    assert (row.numerator, row.denominator) == (1, 3)
    assert row.value == pytest.approx(100 / 3)


def test_tasks_not_yet_due_are_not_counted_as_late(app):
    from portal.tasking import tasks as tasking

    officer, partner = user("officer"), user("partner")

    def task(due):
        made = tasking.create_task(by=officer, title="Speed checks", problem="Speeding on the A49",
                                   locality_id=one(Locality, key="wem").id,
                                   lead_organisation_id=partner.organisation_id, owner_id=partner.id, due_on=due,
                                   today=due - timedelta(days=30))
        db.session.commit()
        return made

    task(date.today() + timedelta(days=10))  # not due yet
    task(date.today() - timedelta(days=2))  # overdue: late
    done = task(date.today() - timedelta(days=20))
    done.completed_on, done.status = date.today() - timedelta(days=21), "completed"
    db.session.commit()
    engine.rollup(sources=("portal",))
    row = value("tasks-completed-on-time", "shropshire", "rolling_12", this_year_window())
    assert (row.numerator, row.denominator) == (1, 2)


def test_the_report_recomputes_the_portal_figures_when_work_changes_without_a_beat(app, as_role):
    analyst = as_role("analyst")
    this_month = date.today().replace(day=1).isoformat()
    url = f"/indicators/report.csv?frequency=monthly&period={this_month}&locality=shropshire"

    def we_did():
        rows = csv.DictReader(io.StringIO(analyst.get(url).get_data(as_text=True)))
        row = next(r for r in rows if r["indicator"].startswith("Share of PACT concerns"))
        return row["numerator"], row["denominator"]

    before = we_did()
    logged_concern(min(date.today().day - 1, 5), answered_after=0)
    numerator, denominator = we_did()
    assert (float(numerator or 0), float(denominator or 0)) == (float(before[0] or 0) + 1, float(before[1] or 0) + 1)


# ---- honest definitions --------------------------------------------------------------------------------

def test_a_proxy_is_named_and_a_hand_entered_real_measure_takes_its_place(app, as_role):
    analyst = as_role("analyst")
    url = "/indicators/?frequency=monthly&period=2018-11-01&locality=shropshire"
    page = text_of(analyst.get(url))
    assert "Proxy: police.uk publishes only 'Violence and sexual offences'" in page
    ni20 = one(IndicatorDefinition, code="ni20-assault-less-serious-injury-rate")
    county = one(Locality, key="shropshire")
    response = analyst.post("/indicators/manual", {"indicator": str(ni20.id), "locality": str(county.id),
                                                   "period_type": "month", "period_start": "2018-11",
                                                   "value": "0.41", "note": "Force return, ALSI only"})
    assert response.status_code == 302
    row = next(r for r in services.report("monthly", date(2018, 11, 1), county) if r.indicator.id == ni20.id)
    assert row.value.value == pytest.approx(0.41) and row.hand_entered and not row.proxy
    assert row.marks == ["entered by hand"]
    csv_rows = list(csv.DictReader(io.StringIO(analyst.get(url.replace("/?", "/report.csv?")).get_data(as_text=True))))
    entry = next(r for r in csv_rows if r["ni_code"] == "NI 20")
    assert entry["rag_marks"] == "entered by hand" and entry["measured_by"] == ""
    # A crime rollup afterwards does not bring the proxy back over the analyst's figure.
    engine.rollup(date(2018, 11, 1), date(2018, 11, 1), sources=("police_crime",))
    assert value("ni20-assault-less-serious-injury-rate", "shropshire", "month", date(2018, 11, 1)).value == 0.41


def test_every_action_with_a_number_in_the_plan_has_a_target(app):
    import re

    from portal.plan.models import Action

    for action in db.session.execute(select(Action)).scalars():
        if re.search(r"\d+(\.\d+)?%|from \d", action.outcome or ""):
            assert action.indicators, action.title
            for indicator in action.indicators:
                assert indicator.target is not None or indicator.target_change_pct is not None, action.title


@pytest.mark.both_databases
def test_a_relative_target_is_measured_against_the_baseline_period_and_edits_are_kept(app, backend, as_role):
    analyst = as_role("analyst")
    code = "criminal-damage-rate"
    page = text_of(analyst.get(f"/indicators/{code}"))
    assert "no data for its baseline period, 2009-10" in page
    form = {"amber_tolerance": "5", "target_change_pct": "-1", "baseline_period_type": "financial_year",
            "baseline_period_start": "2018-04", "target_date": "2011-03-31", "reason": "Baseline moved to 2018-19"}
    assert as_role("officer").post(f"/indicators/{code}", form).status_code == 403
    assert analyst.post(f"/indicators/{code}", form | {"reason": ""}).status_code == 400
    assert analyst.post(f"/indicators/{code}", form).status_code == 302

    _, october = real_rows("2018-10")
    _, november = real_rows("2018-11")
    county = LOCALITIES["shropshire"]
    damage = lambda kind: kind == "Criminal damage and arson"  # noqa: E731
    base = (by_hand(october, set(county["lsoa_codes"]), damage)
            + by_hand(november, set(county["lsoa_codes"]), damage)) * 1000 / county["population"] * 12 / 2
    row = next(r for r in services.report("monthly", date(2018, 11, 1), one(Locality, key="shropshire"))
               if r.indicator.code == code)
    assert row.aim.target == pytest.approx(base * 0.99)
    nov = by_hand(november, set(county["lsoa_codes"]), damage) * 1000 / county["population"] * 12
    assert row.rag == ("Green" if nov <= base * 0.99 else "Amber" if nov <= base * 0.99 * 1.05 else "Red")
    page = text_of(analyst.get(f"/indicators/{code}"))
    assert "1% below 2018-19" in page
    assert "Ann Analyst baseline period start 2009-04-01 2018-04-01 Baseline moved to 2018-19" in page
    # Another tolerance: the RAG follows the current definition at once.
    analyst.post(f"/indicators/{code}", form | {"amber_tolerance": "50", "reason": "Wider band"})
    assert "amber tolerance 5 50 Wider band" in text_of(analyst.get(f"/indicators/{code}"))


# ---- found in review: each would have slipped through the tests above -------------------------------

def test_a_share_is_compared_as_it_is_and_a_rate_month_for_month(app):
    share = one(IndicatorDefinition, code="we-did-within-28-days")
    rate = one(IndicatorDefinition, code="ni16-serious-acquisitive-crime-rate")
    year = dict(period_type="financial_year", entered_by_hand=False, months=9, previous_months=12)
    assert IndicatorValue(indicator=share, value=100.0, previous_value=100.0, **year).change_pct == 0
    # A rate over 9 months of data against 12: per month, 1.0 against 1.0, unchanged.
    assert IndicatorValue(indicator=rate, value=9.0, previous_value=12.0, **year).change_pct == pytest.approx(0)


def test_an_analysts_real_measure_is_not_compared_with_last_years_proxy(app, as_role):
    ni20 = one(IndicatorDefinition, code="ni20-assault-less-serious-injury-rate")
    county = one(Locality, key="shropshire")
    services.enter_manual_value(by=user("analyst"), indicator_id=ni20.id, locality_id=county.id,
                                period_type="month", period_start=date(2019, 10, 1), value=0.41)
    db.session.commit()
    engine.rollup(date(2019, 10, 1), date(2019, 10, 1), sources=("manual",))
    assert value(ni20.code, "shropshire", "month", date(2018, 10, 1)).value > 1  # last year's proxy
    hand = value(ni20.code, "shropshire", "month", date(2019, 10, 1))
    assert hand.entered_by_hand and hand.previous_value is None and hand.change_pct is None


def test_the_proxy_stays_until_the_analysts_figure_has_rolled_up(app):
    """A hand figure saved, its own rollup not yet run (or failed): a crime rollup keeps the proxy."""
    from portal.indicators.models import ManualValue

    ni20 = one(IndicatorDefinition, code="ni20-assault-less-serious-injury-rate")
    db.session.add(ManualValue(indicator_id=ni20.id, locality_id=one(Locality, key="shropshire").id,
                               period_type="month", period_start=date(2018, 11, 1), value=0.41,
                               entered_by_id=user("analyst").id))
    db.session.commit()
    engine.rollup(date(2018, 11, 1), date(2018, 11, 1), sources=("police_crime",))
    proxy = value(ni20.code, "shropshire", "month", date(2018, 11, 1))
    assert proxy is not None and proxy.value > 1 and not proxy.entered_by_hand
    engine.rollup(date(2018, 11, 1), date(2018, 11, 1), sources=("manual",))
    assert value(ni20.code, "shropshire", "month", date(2018, 11, 1)).value == 0.41


def test_the_report_does_not_recompute_when_nothing_changed_even_with_no_portal_figures(app):
    db.session.execute(text("UPDATE concerns SET raised_on = :d"), {"d": date.today()})  # nothing due yet
    db.session.commit()
    engine.rollup(sources=("portal",))
    assert not engine.portal_figures_stale()
    logged_concern(2)
    assert engine.portal_figures_stale()


def test_a_hand_entered_figure_before_any_other_data_survives_a_rollup_from_scratch(app):
    ni5 = one(IndicatorDefinition, code="ni5-satisfaction-with-local-area")
    services.enter_manual_value(by=user("analyst"), indicator_id=ni5.id, locality_id=one(Locality, key="shropshire").id,
                                period_type="financial_year", period_start=date(2001, 4, 1), value=71.0)
    db.session.commit()
    db.session.execute(delete(IndicatorValue))
    db.session.commit()
    engine.rollup()
    assert value(ni5.code, "shropshire", "financial_year", date(2001, 4, 1)).value == 71.0


def test_a_changed_population_reaches_the_stored_figures_at_once(app, as_role):
    ward = one(Locality, key="ludlow-north") if db.session.execute(select(Locality).filter_by(
        key="ludlow-north")).scalar_one_or_none() else db.session.execute(
        select(Locality).where(Locality.level == "ward", Locality.population > 0)).scalars().first()
    before = value("ni16-serious-acquisitive-crime-rate", ward.key, "month", date(2018, 11, 1))
    form = {"key": ward.key, "name": ward.name, "level": ward.level, "parent": str(ward.parent_id),
            "population": str(ward.population * 2), "population_source": "Mid-year estimate",
            "aliases": "", "active": "y"}
    assert as_role("admin").post(f"/admin/localities/{ward.id}", form).status_code == 302
    after = value("ni16-serious-acquisitive-crime-rate", ward.key, "month", date(2018, 11, 1))
    assert after.numerator == before.numerator and after.value == pytest.approx(before.value / 2)
