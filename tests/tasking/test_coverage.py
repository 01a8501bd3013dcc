"""Where nobody is working yet: wards ranked by recorded crime and ASB from the seeded police.uk months,
the top quarter with no live task flagged and put on the Bronze agenda, and the three signals side by side."""
import math
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.concerns.models import Concern, ConcernCategory
from portal.crime.models import CrimeMonthlyCount
from portal.extensions import db
from portal.places.models import Locality
from portal.tasking import coverage, tasks
from portal.tasking.models import AgendaItem

from ..conftest import text_of
from ..factories import new_meeting, one, user

pytestmark = pytest.mark.both_databases


def hand_ranking(area_key):
    """The ranking worked out the long way: each ward's crime and ASB over the months with data, per 1,000
    residents, times 12 over the number of months; ranked highest first; the top ceil(n / 4) high harm."""
    area = one(Locality, key=area_key)
    neighbourhoods = {n.id for n in db.session.execute(select(Locality).where(Locality.parent_id == area.id)).scalars()}
    wards = db.session.execute(select(Locality).where(Locality.parent_id.in_(neighbourhoods),
                                                      Locality.level == "ward")).scalars().all()
    months = db.session.execute(select(func.count(func.distinct(CrimeMonthlyCount.month)))).scalar()
    totals = dict(db.session.execute(select(CrimeMonthlyCount.locality_id, func.sum(CrimeMonthlyCount.n))
                                     .group_by(CrimeMonthlyCount.locality_id)).all())
    rates = {w.name: int(totals.get(w.id, 0)) * 1000 / w.population * 12 / months for w in wards if w.population}
    ranked = sorted(rates, key=lambda name: -rates[name])
    return ranked, rates, ranked[:math.ceil(len(ranked) / 4)]


def live_task_in(ward_name, status=None):
    ward = one(Locality, name=ward_name, level="ward")
    officer = user("officer")
    task = tasks.create_task(by=officer, title=f"Patrols in {ward_name}", problem="Crime is high",
                             locality_id=ward.id, lead_organisation_id=officer.organisation_id, owner_id=officer.id,
                             due_on=date.today() + timedelta(days=30))
    db.session.flush()
    if status:
        task.status = status
    db.session.commit()
    return task


def test_wards_rank_by_rate_as_worked_by_hand_and_the_top_quarter_without_a_task_is_flagged(app, backend, as_role):
    ranked, rates, top = hand_ranking("north")
    assert len(ranked) == 20 and len(top) == 5  # the seed's North wards, all with a population
    north = one(Locality, key="north")
    result = coverage.area_coverage(north)
    assert [w.ward.name for w in result.wards] == ranked
    for row in result.wards:
        assert row.rate == pytest.approx(rates[row.ward.name])
    # The first by hand: Oswestry South, 199 crimes and ASB in Oct and Nov 2018 for 4,758 residents.
    first = result.wards[0]
    assert (first.ward.name, first.crimes, first.ward.population, first.months) == ("Oswestry South", 199, 4758, 2)
    assert f"{first.rate:.1f}" == f"{199 * 1000 / 4758 * 12 / 2:.1f}" == "250.9"
    assert [w.ward.name for w in result.flagged] == top
    # A live task takes a ward off the list; a completed one does not.
    live_task_in(top[2])
    live_task_in(top[0], status="completed")
    result = coverage.area_coverage(north)
    assert [w.ward.name for w in result.flagged] == [name for name in top if name != top[2]]
    page = text_of(as_role("officer").get("/tasking/coverage/north"))
    assert f"High harm, no task: {', '.join(n for n in top if n != top[2])}" in page
    assert f"1 {top[0]} 199 250.9 0 0 High harm, no task" in page
    assert f"3 {top[2]} " in page and f"{rates[top[2]]:.1f} 1 0 High harm 4 " in page  # high harm, with its task


def test_wards_rank_by_rise_from_one_month_to_the_next(app, backend):
    result = coverage.area_coverage(one(Locality, key="north"))
    by_month = dict(db.session.execute(
        select(CrimeMonthlyCount.locality_id, func.sum(CrimeMonthlyCount.n))
        .where(CrimeMonthlyCount.month == date(2018, 11, 1)).group_by(CrimeMonthlyCount.locality_id)).all())
    earlier = dict(db.session.execute(
        select(CrimeMonthlyCount.locality_id, func.sum(CrimeMonthlyCount.n))
        .where(CrimeMonthlyCount.month == date(2018, 10, 1)).group_by(CrimeMonthlyCount.locality_id)).all())
    rises = {w.ward.name: int(by_month.get(w.ward.id, 0)) - int(earlier.get(w.ward.id, 0)) for w in result.wards}
    ordered = result.by_rise
    assert [rises[w.ward.name] for w in ordered] == sorted(rises.values(), reverse=True)
    assert ordered[0].rise_rank == 1 and ordered[0].rise == max(rises.values())


def test_the_bronze_agenda_lists_high_harm_wards_with_no_task(app, backend, as_role):
    _, _, top = hand_ranking("north")
    live_task_in(top[1])
    meeting = new_meeting()
    items = db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id,
                                                        AgendaItem.kind == "high_harm_no_task")
                               .order_by(AgendaItem.position)).scalars().all()
    named = [name for name in top if name != top[1]]
    assert [item.summary.split(":")[1].split(" has ")[0].strip() for item in items] == named
    assert items[0].summary.startswith(f"High harm, no task: {top[0]} has 250.9 recorded crimes and ASB per 1,000 "
                                       "residents a year (Dec 2017 to Nov 2018), rank 1 of the North area's wards")
    # After the crime rises, last in the chair's order.
    kinds = db.session.execute(select(AgendaItem.kind).where(AgendaItem.meeting_id == meeting.id)
                               .order_by(AgendaItem.position)).scalars().all()
    assert kinds[-len(items):] == ["high_harm_no_task"] * len(items)
    page = text_of(as_role("officer").get(f"/tasking/meetings/{meeting.id}"))
    assert "High harm, no task" in page and f"{top[0]} has 250.9" in page


def test_the_signals_disagree_where_residents_and_the_police_data_see_different_things(app, backend, as_role):
    north = one(Locality, key="north")
    signals = coverage.locality_signals(north)
    assert signals.survey[0][:2] == (1, "Speeding Traffic") and signals.survey_of.key == "shropshire"
    assert "Residents rank speeding traffic first in the Community Survey; recorded crime cannot see it" \
        in signals.disagreements
    # A ward where ASB rose from October to November 2018 and no PACT concern is about ASB.
    asb = {month: dict(db.session.execute(select(CrimeMonthlyCount.locality_id, CrimeMonthlyCount.n).where(
        CrimeMonthlyCount.crime_type == "anti-social-behaviour", CrimeMonthlyCount.month == month)).all())
        for month in (date(2018, 10, 1), date(2018, 11, 1))}
    concerned = set(db.session.execute(select(Concern.locality_id)).scalars())
    ward = next(w for w in db.session.execute(select(Locality).where(Locality.level == "ward")
                                              .order_by(Locality.name)).scalars()
                if asb[date(2018, 11, 1)].get(w.id, 0) > asb[date(2018, 10, 1)].get(w.id, 0) > 0
                and w.id not in concerned and w.area is not None and w.area.key == "north")
    before, now = asb[date(2018, 10, 1)][ward.id], asb[date(2018, 11, 1)][ward.id]
    rising = f"Anti-social behaviour is rising ({before} in Oct 2018, {now} in Nov 2018) with no PACT concern about it"
    assert rising in coverage.locality_signals(ward).disagreements
    page = text_of(as_role("analyst").get(f"/tasking/coverage/north?place={ward.key}"))
    assert rising in page and "Speeding Traffic Not in crime data" in page
    # A PACT concern about ASB there answers it.
    db.session.add(Concern(locality=ward, category=one(ConcernCategory, name="ASB - OTHER"), source="pact",
                           raised_on=date.today() - timedelta(days=3), you_said="Noise from the car park",
                           status="new"))
    db.session.commit()
    assert rising not in coverage.locality_signals(ward).disagreements
    assert as_role("officer").get("/tasking/coverage/north?place=ludlow").status_code == 404  # not in North
    assert as_role("partner").get("/tasking/coverage/north").status_code == 403


def test_speeding_and_parking_are_what_the_crime_data_cannot_see(app):  # the seeded category -> type table
    assert coverage.crime_types_for("VEHICLE RELATED - SPEEDING TRAFFIC") == ()
    assert coverage.crime_types_for("VEHICLE RELATED - CARS PARKED ILLEGALLY / INCONVENIENTLY") == ()
    assert coverage.crime_types_for("ASB - NOISE") == ("anti-social-behaviour",)
    assert coverage.crime_types_for("CRIME - BURGLARY") == ("burglary",)


def test_only_concerns_raised_at_pact_meetings_count_as_pact_concerns(app, backend, as_role):
    ward = one(Locality, key="wem")
    before = coverage.locality_signals(ward).pact
    category = one(ConcernCategory, name="CRIME - BURGLARY")
    for source in ("survey", "resident_online", "resident_contact", "partner_referral"):
        db.session.add(Concern(locality=ward, category=category, source=source, status="new",
                               raised_on=date.today() + timedelta(days=1), you_said=f"Burglaries ({source})"))
    db.session.commit()
    signals = coverage.locality_signals(ward)
    assert signals.pact == before and "Crime - burglary" not in text_of(
        as_role("officer").get(f"/tasking/coverage/north?place={ward.key}"))
    db.session.add(Concern(locality=ward, category=category, source="pact", status="new",
                           raised_on=date.today() - timedelta(days=1), you_said="Burglaries on Mill Street"))
    db.session.commit()
    assert ("CRIME - BURGLARY", 1, True) in coverage.locality_signals(ward).pact
