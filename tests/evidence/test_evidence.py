"""Before and after, per task: recorded crime of the task's types in its place against the rest of its area,
checked against hand counts of constructed months and of the real police.uk rows in seed/police."""
import csv
from datetime import date, datetime

import pytest
from sqlalchemy import delete, select

from portal.concerns.models import Concern, ConcernCategory
from portal.config import ROOT
from portal.crime.models import CrimeImport, CrimeMonthlyCount
from portal.evidence import services as evidence
from portal.evidence.models import TaskEvidence
from portal.extensions import db
from portal.places.models import Locality, LocalityLsoa
from portal.tasking import tasks
from portal.tasking.models import TaskUpdate

from ..conftest import text_of
from ..factories import YOUTHS, new_concern, new_task, one, plan_action, user

ASB, BURGLARY, FORCE = "anti-social-behaviour", "burglary", "West Mercia Police"
POLICE = ROOT / "seed" / "police"


def wards_of(key):
    place = one(Locality, key=key)
    return [c for c in place.children if c.level == "ward"] or [place]


def responding(task, on):
    """The task moved by its partner through Analysis to Response, the response dated ``on``. Commits."""
    partner = user("partner")
    tasks.update_task(task, by=partner, version=task.version_id, stage="analysis", text="Looked at it")
    tasks.update_task(task, by=partner, version=task.version_id, stage="response", victim="Residents nearby")
    entry = db.session.execute(select(TaskUpdate).where(TaskUpdate.task_id == task.id,
                                                        TaskUpdate.to_stage == "response")).scalar_one()
    entry.at = datetime.combine(on, datetime.min.time())
    db.session.commit()
    return task


def counts(rows):
    """Constructed monthly counts: {(month, ward id, type): n}, each month its own import."""
    for (month, ward, kind), n in rows.items():
        db.session.add(CrimeMonthlyCount(month=month, locality_id=ward, crime_type=kind, force=FORCE, n=n))
    for month in {m for m, _, _ in rows}:
        db.session.add(CrimeImport(file_name=f"{month:%Y-%m}-constructed.csv", force=FORCE, month=month,
                                   status="done"))
    db.session.commit()


@pytest.fixture
def months_2019(app):
    """Jan to Jul 2019 but February (nobody imported it): ASB and burglary in Wem's two wards, in another
    North ward, and in a South ward that is no part of the comparison."""
    shawbury, wem = wards_of("wem")
    other = next(w for w in wards_of("whitchurch"))
    south = next(w for w in db.session.execute(select(Locality).where(Locality.level == "ward")).scalars()
                 if w.area and w.area.key == "south")
    here_asb = {1: (6, 4), 3: (5, 5), 4: (9, 9), 5: (3, 2), 6: (2, 3), 7: (4, 1)}  # month: (Shawbury, Wem)
    other_asb = {1: 20, 3: 20, 4: 30, 5: 18, 6: 18, 7: 18}
    rows = {}
    for m, (a, b) in here_asb.items():
        month = date(2019, m, 1)
        rows[(month, shawbury.id, ASB)], rows[(month, wem.id, ASB)] = a, b
        rows[(month, other.id, ASB)] = other_asb[m]
        rows[(month, wem.id, BURGLARY)] = 50  # not a type this task addresses
        rows[(month, south.id, ASB)] = 500  # outside the North area
    counts(rows)
    return {"other": other}


@pytest.mark.both_databases
def test_before_and_after_against_a_hand_count_with_the_missing_month_named(app, backend, months_2019):
    task = responding(new_task(new_concern(where="wem", name=YOUTHS)), date(2019, 4, 10))
    ev = evidence.evidence_for(task)
    # Response in April (left out): Jan-Mar before, May-Jul after; February has no data at all.
    assert ev.crime_types == [ASB] and ev.n == 3
    assert ev.before_months == [date(2019, 1, 1), date(2019, 2, 1), date(2019, 3, 1)]
    assert ev.after_months == [date(2019, 5, 1), date(2019, 6, 1), date(2019, 7, 1)]
    assert ev.missing == [date(2019, 2, 1)]
    # Hand count: Wem before = Jan (6+4) + Mar (5+5) = 20 over 2 months; after = 5 + 5 + 5 = 15 over 3.
    assert (ev.here.before, ev.here.after) == (20, 15)
    assert ev.here.change == pytest.approx(100 * (15 / 3 - 20 / 2) / (20 / 2))  # -50%, month for month
    # The rest of the North area: the other ward, 40 over 2 months, then 54 over 3: -10%.
    assert (ev.rest.before, ev.rest.after) == (40, 54)
    assert ev.rest.change == pytest.approx(-10.0)
    assert ev.did == pytest.approx(-40.0)
    assert [(m, h) for m, h, _, _ in ev.monthly] == [
        (date(2019, 1, 1), 10), (date(2019, 2, 1), None), (date(2019, 3, 1), 10),
        (date(2019, 5, 1), 5), (date(2019, 6, 1), 5), (date(2019, 7, 1), 5)]
    text = evidence.assessment_text(ev)
    assert "20 in the three months before" in text and "15 in the three months after" in text
    assert "No police data for February 2019" in text and "-40 percentage points" in text


@pytest.mark.both_databases
def test_a_batch_gives_each_task_the_figures_it_gets_alone(app, backend, months_2019):
    wem_task = responding(new_task(new_concern(where="wem")), date(2019, 4, 10))
    other_task = responding(new_task(new_concern(where="whitchurch"), where="whitchurch"), date(2019, 4, 2))
    late = responding(new_task(new_concern(where="wem")), date(2019, 7, 3))
    together = evidence.evidence_for_tasks([wem_task, other_task, late])
    for task in (wem_task, other_task, late):
        alone = evidence.evidence_for(task)
        assert (together[task.id].here, together[task.id].rest, together[task.id].state) == (
            alone.here, alone.rest, alone.state)
    # The Whitchurch task: its own wards against the rest of the North area, Wem's wards among them.
    whitchurch = together[other_task.id]
    assert (whitchurch.here.before, whitchurch.here.after) == (40, 54)
    assert (whitchurch.rest.before, whitchurch.rest.after) == (20, 15)
    assert together[late.id].state == "too_soon"  # July 2019 is the latest month: nothing after it yet


@pytest.mark.both_databases
def test_real_police_rows_counted_as_by_hand(app, backend):
    """The seeded October and November 2018 (real rows): a response in September counts both after it."""
    task = responding(new_task(new_concern(where="wem")), date(2018, 9, 12))
    ev = evidence.evidence_for(task, months=2)
    here = {row.lsoa_code for w in wards_of("wem") for row in w.lsoas}
    north = {code for (code,) in db.session.execute(select(LocalityLsoa.lsoa_code).join(Locality).where(
        Locality.level == "ward")) if one_ward_in(code, "north")}
    by_hand = {"here": 0, "rest": 0}
    for path in sorted(POLICE.glob("2018-1*-west-mercia-street.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["Crime type"] == "Anti-social behaviour" and row["LSOA code"] in north:
                    by_hand["here" if row["LSOA code"] in here else "rest"] += 1
    assert by_hand["here"] > 0
    assert (ev.here.after, ev.rest.after) == (by_hand["here"], by_hand["rest"])
    # July and August 2018 were never imported: named, not zeros, and no change is claimed.
    assert ev.missing == [date(2018, 7, 1), date(2018, 8, 1)] and ev.state == "no_data"
    assert ev.here.change is None and ev.did is None and evidence.public_line(ev) == ""


def one_ward_in(lsoa, area_key):
    ward = db.session.execute(select(Locality).join(LocalityLsoa).where(
        LocalityLsoa.lsoa_code == lsoa, Locality.level == "ward")).scalars().first()
    return ward is not None and ward.area is not None and ward.area.key == area_key


@pytest.mark.both_databases
def test_residents_concerns_of_the_same_category_before_and_after(app, backend, months_2019):
    task = responding(new_task(new_concern(where="wem")), date(2019, 4, 10))
    youths = one(ConcernCategory, name=YOUTHS)
    litter = one(ConcernCategory, name="ENVIRONMENTAL - LITTER")
    shawbury = wards_of("wem")[0]
    for day, category, source, where in [
            (date(2019, 1, 5), youths, "pact", shawbury), (date(2019, 3, 30), youths, "pact", one(Locality, key="wem")),
            (date(2019, 4, 20), youths, "pact", shawbury),  # the response month: in neither window
            (date(2019, 6, 1), youths, "pact", shawbury), (date(2019, 6, 2), litter, "pact", shawbury),
            (date(2019, 6, 3), youths, "survey", shawbury), (date(2019, 6, 4), youths, "pact", months_2019["other"])]:
        db.session.add(Concern(locality=where, category=category, source=source, raised_on=day, you_said="x"))
    db.session.commit()
    ev = evidence.evidence_for(task)
    # The task's own concern was raised three days ago: after the windows, so not counted.
    assert (ev.concerns_before, ev.concerns_after) == (2, 1)


def test_speeding_is_named_as_what_crime_data_cannot_see(app, as_role, months_2019):
    concern = new_concern(where="wem", name="VEHICLE RELATED - SPEEDING TRAFFIC", said="Speeding on the A49")
    task = responding(new_task(concern), date(2019, 4, 10))
    ev = evidence.evidence_for(task)
    assert ev.crime_types == [] and ev.unseen == ["VEHICLE RELATED - SPEEDING TRAFFIC"]
    page = text_of(as_role("partner").get(f"/tasks/{task.id}"))
    assert "No recorded crime type counts for this task: police data cannot see vehicle related - speeding" in page


def test_a_partner_chooses_what_counts_and_the_task_page_prefills_its_assessment(app, as_role, months_2019):
    task = responding(new_task(new_concern(where="wem")), date(2019, 4, 10))
    partner = as_role("partner")
    page = partner.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="evidence"' in page and "Recorded anti-social behaviour in Wem: 20 in the three months before" in page
    assert partner.get(f"/tasks/{task.id}/evidence").status_code == 200
    refused = partner.post(f"/tasks/{task.id}/evidence", {"crime_types": ["made-up"], "months": "3"})
    assert refused.status_code == 400 and "not a valid choice" in text_of(refused).lower()
    refused = partner.post(f"/tasks/{task.id}/evidence", {"crime_types": [ASB], "months": "13"})
    assert refused.status_code == 400 and "Enter how many months to compare, 1 to 12" in text_of(refused)
    assert db.session.get(TaskEvidence, task.id) is None  # nothing half-saved
    saved = partner.post(f"/tasks/{task.id}/evidence", {"crime_types": [ASB, BURGLARY], "months": "2"})
    assert saved.status_code == 302
    ev = evidence.evidence_for(task)
    assert ev.crime_types == [ASB, BURGLARY] and ev.chosen and ev.n == 2
    assert (ev.here.before, ev.here.after) == (10 + 50, 5 + 50 + 5 + 50)  # Mar only (Feb missing); May, Jun
    assert "Evidence counts recorded anti-social behaviour and burglary" in text_of(partner.get(f"/tasks/{task.id}"))
    partner.post(f"/tasks/{task.id}/evidence", {"use": "defaults", "months": "3"})
    assert evidence.evidence_for(task).crime_types == [ASB] and not evidence.evidence_for(task).chosen


def test_only_those_who_may_update_the_task_choose_its_evidence(app, as_role, months_2019):
    from portal.errors import NotAllowed

    task = responding(new_task(new_concern(where="wem")), date(2019, 4, 10))
    assert as_role("analyst").post(f"/tasks/{task.id}/evidence", {"months": "3"}).status_code == 403
    with pytest.raises(NotAllowed):  # the service checks too, whatever calls it
        evidence.choose_evidence(task, by=user("analyst"), crime_types=[ASB], months=3)
    assert db.session.get(TaskEvidence, task.id) is None


def test_the_pmcg_drill_down_shows_each_tasks_before_and_after(app, as_role, months_2019):
    task = new_task(new_concern(where="wem"), action=plan_action())
    responding(task, date(2019, 4, 10))
    page = text_of(as_role("analyst").get("/indicators/?locality=wem"))
    assert f"Task {task.id}" in page
    assert "Recorded anti-social behaviour in Wem, 3 months before and after: 20 → 15 (-50%)" in page
    assert "difference in differences -40 points" in page and "no police data for February 2019" in page


def published(task, we_did="Patrols at the recreation ground on Friday nights"):
    officer = user("officer")
    tasks.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                      assessment="Fewer calls", we_did=we_did)
    tasks.review_and_publish(task, by=officer, version=task.version_id)
    db.session.commit()
    return task


def full_months(app, here_per_month, rest_per_month):
    """Jan to Jul 2019 with every month present: Wem's Shawbury ward and the other North ward."""
    shawbury, other = wards_of("wem")[0], wards_of("whitchurch")[0]
    rows = {}
    for m in range(1, 8):
        rows[(date(2019, m, 1), shawbury.id, ASB)] = here_per_month[m]
        rows[(date(2019, m, 1), other.id, ASB)] = rest_per_month
    counts(rows)


@pytest.mark.both_databases
def test_residents_read_the_plain_line_only_above_the_minimum(app, backend, browser):
    full_months(app, {1: 14, 2: 14, 3: 13, 4: 9, 5: 10, 6: 10, 7: 9}, 40)
    task = published(responding(new_task(new_concern(where="wem")), date(2019, 4, 10)))
    line = ("Recorded anti-social behaviour in Wem fell from 41 to 29 in the three months after the partnership's "
            "response began, while in the rest of the North area it was unchanged.")
    assert line in text_of(browser.get("/you-said-we-did"))
    assert line in text_of(browser.get("/places/wem"))
    # July's count goes under the minimum (5 of 9 to 4): the line is gone, however large the rest.
    db.session.execute(delete(CrimeMonthlyCount).where(CrimeMonthlyCount.month == date(2019, 7, 1),
                                                       CrimeMonthlyCount.locality_id == wards_of("wem")[0].id))
    db.session.add(CrimeMonthlyCount(month=date(2019, 7, 1), locality_id=wards_of("wem")[0].id, crime_type=ASB,
                                     force=FORCE, n=1))
    db.session.add(CrimeImport(file_name="2019-07-again.csv", force=FORCE, month=date(2019, 7, 1), status="done"))
    db.session.commit()
    ev = evidence.evidence_for(task)
    assert (ev.here.before, ev.here.after) == (41, 21)
    assert evidence.public_line(ev) != ""  # 41 and 21 are both large enough
    low = {1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1}
    db.session.execute(delete(CrimeMonthlyCount).where(CrimeMonthlyCount.locality_id == wards_of("wem")[0].id))
    db.session.commit()
    shawbury = wards_of("wem")[0]
    for m, n in low.items():
        db.session.add(CrimeMonthlyCount(month=date(2019, m, 1), locality_id=shawbury.id, crime_type=ASB,
                                         force=FORCE, n=n))
    db.session.add(CrimeImport(file_name="2019-low.csv", force=FORCE, month=date(2019, 7, 1), status="done"))
    db.session.commit()
    ev = evidence.evidence_for(task)
    assert (ev.here.before, ev.here.after) == (4, 3) and evidence.public_line(ev) == ""
    page = text_of(browser.get("/you-said-we-did"))
    assert "Patrols at the recreation ground on Friday nights" in page and "Recorded anti-social behaviour" not in page


def test_the_public_line_carries_nothing_of_the_task_but_its_figures(app, browser):
    """The leak test's rule for what this adds: every public URL, with a published task whose private texts
    carry a marker, shows the line and never the marker."""
    from ..public.test_public import public_urls

    mark = "QZV4471"
    full_months(app, {1: 14, 2: 14, 3: 13, 4: 9, 5: 10, 6: 10, 7: 9}, 40)
    concern = new_concern(where="wem")
    task = new_task(concern)
    task.title, task.problem = f"Title {mark}", f"Problem {mark}"
    db.session.commit()
    responding(task, date(2019, 4, 10))
    task.offender, task.location = f"Offender {mark}", f"Location {mark}"
    db.session.commit()
    published(task)
    assert "fell from 41 to 29" in text_of(browser.get("/places/wem"))
    for url in public_urls(app, concern):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert mark not in response.get_data(as_text=True), f"a task's private text leaked into {url}"


def test_a_response_in_the_latest_month_says_the_figures_are_still_to_come(app, as_role, months_2019):
    task = responding(new_task(new_concern(where="wem")), date(2019, 7, 20))
    page = text_of(as_role("partner").get(f"/tasks/{task.id}"))
    assert "The response began in July 2019; police data so far runs to July 2019" in page
    assert 'id="evidence-table"' not in as_role("partner").get(f"/tasks/{task.id}").get_data(as_text=True)
    scanning = new_task(new_concern(where="wem"))
    assert 'id="evidence"' not in as_role("partner").get(f"/tasks/{scanning.id}").get_data(as_text=True)


def test_a_tasks_new_choice_of_what_counts_reaches_the_cached_public_line_at_once(app, backend, browser):
    full_months(app, {1: 14, 2: 14, 3: 13, 4: 9, 5: 10, 6: 10, 7: 9}, 40)
    task = published(responding(new_task(new_concern(where="wem")), date(2019, 4, 10)))
    assert "fell from 41 to 29 in the three months after" in text_of(browser.get("/places/wem"))  # now cached
    evidence.choose_evidence(task, by=user("partner"), months=2)
    db.session.commit()
    page = text_of(browser.get("/places/wem"))
    assert "in the two months after" in page and "three months after" not in page
