"""Where nobody is working yet: an area's wards ranked by recorded crime and ASB against the live tasks and
open concerns in each, and per locality what residents, PACT meetings and the police data each say.

Police figures come from the monthly counts (``crime_monthly_counts``, through portal/crime/stats.py),
never the crime rows, and every figure of a page is read in a fixed number of grouped queries whatever the
number of wards, tasks or months.

A ward is *high harm* when its rate of recorded crime and ASB (per 1,000 residents a year, over the 12
months to the latest month with data) is in the top quarter of its area's wards (the first ceil(n / 4) of
those with a population, by rate); a high-harm ward with no live task is flagged, and is an item of the
area's Bronze agenda ("high harm, no task").
"""
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Optional

from flask import g
from sqlalchemy import func, select

from ..concerns.models import OPEN_STATUSES, CategoryCrimeType, Concern, ConcernCategory, SurveyResult
from ..crime.categories import LABELS
from ..crime.stats import add_months, change_pct, counts_by_ward, crime_counts, latest_month, months_with_data
from ..extensions import db
from ..places.models import Locality
from ..places.services import descendants_map
from .models import ACTIVE_STATUSES, Task

WINDOW_MONTHS = 12  # the rate's window, to the latest month with data
# A rise: the latest month with data against the month before (as the agenda's crime rises are read).
RISE_MONTHS = 1
TOP_SIGNALS = 5


@dataclass
class WardCoverage:
    ward: Locality
    crimes: int  # recorded crime and ASB in the window
    months: int
    rate: Optional[float]  # per 1,000 residents a year; None without a population or data
    recent: int  # the latest RISE_MONTHS
    before: int  # the RISE_MONTHS before them
    rise_pct: Optional[float]
    live_tasks: int
    open_concerns: int
    rate_rank: Optional[int] = None
    rise_rank: Optional[int] = None
    high_harm: bool = False

    @property
    def rise(self):
        return self.recent - self.before

    @property
    def flagged(self):
        """High harm and nobody working on it."""
        return self.high_harm and self.live_tasks == 0


@dataclass
class Coverage:
    area: Locality
    latest: Optional[object]  # the latest month with police data (a date), or None
    date_from: Optional[object]
    wards: list = field(default_factory=list)  # by rate, highest first; wards without a rate last

    @property
    def flagged(self):
        return [w for w in self.wards if w.flagged]

    @property
    def by_rise(self):
        return sorted(self.wards, key=lambda w: (w.rise_rank is None, w.rise_rank or 0, w.ward.name))


def area_by_key(key):
    """The area with this key, or None."""
    return db.session.execute(select(Locality).where(Locality.key == (key or "")[:80],
                                                     Locality.level == "area")).scalar_one_or_none()


def place_in(area, key):
    """The area itself when ``key`` is empty, else the place of that key inside the area, or None."""
    if not (key or "").strip():
        return area
    place = db.session.execute(select(Locality).where(Locality.key == key.strip()[:80])).scalar_one_or_none()
    return place if place is not None and place.id in descendants_map().get(area.id, ()) else None


def places_in(area):
    """(key, label) of the area's neighbourhoods and wards, by name, for the page's choice of place (a ward
    and its neighbourhood often share a name, so each says which it is)."""
    ids = descendants_map().get(area.id, {area.id}) - {area.id}
    rows = db.session.execute(select(Locality.key, Locality.name, Locality.level).where(
        Locality.id.in_(ids), Locality.active).order_by(Locality.name, Locality.level)).all()
    return [(key, f"{name} ({level})") for key, name, level in rows]


def _sum_by_ward(rows, wards, below):
    """{ward id: sum of ``rows`` ({locality id: n}) over the ward and everything below it}."""
    return {w.id: sum(rows.get(i, 0) for i in below.get(w.id, {w.id})) for w in wards}


def _live_tasks_by_locality(ids):
    return dict(db.session.execute(select(Task.locality_id, func.count()).where(
        Task.status.in_(ACTIVE_STATUSES), Task.locality_id.in_(ids)).group_by(Task.locality_id)).all())


def _open_concerns_by_locality(ids):
    return dict(db.session.execute(select(Concern.locality_id, func.count()).where(
        Concern.status.in_(OPEN_STATUSES), Concern.locality_id.in_(ids)).group_by(Concern.locality_id)).all())


def _rank(wards, key):
    """1, 2, 3 ... by ``key`` descending, ties sharing a rank; None where key is None."""
    ranked = sorted((w for w in wards if key(w) is not None), key=lambda w: -key(w))
    ranks, previous, rank = {}, None, 0
    for position, ward in enumerate(ranked, 1):
        if key(ward) != previous:
            rank, previous = position, key(ward)
        ranks[ward.ward.id] = rank
    return ranks


def area_coverage(area):
    """Coverage of an area's wards: each ward's crime and ASB rate, its rise, its live tasks and open
    concerns, its ranks by rate and by rise, and whether it is high harm (top quarter by rate) with no live
    task. A fixed number of queries whatever the data's size."""
    below = descendants_map()
    in_area = below.get(area.id, {area.id})
    wards = db.session.execute(select(Locality).where(Locality.level == "ward", Locality.id.in_(in_area),
                                                      Locality.active).order_by(Locality.name)).scalars().all()
    latest = latest_month()
    coverage = Coverage(area=area, latest=latest, date_from=None)
    tasks = _sum_by_ward(_live_tasks_by_locality(in_area), wards, below)
    concerns = _sum_by_ward(_open_concerns_by_locality(in_area), wards, below)
    if latest is None:
        coverage.wards = [WardCoverage(w, 0, 0, None, 0, 0, None, tasks[w.id], concerns[w.id]) for w in wards]
        return coverage
    date_from = add_months(latest, -(WINDOW_MONTHS - 1))
    recent_from, before_from = add_months(latest, -(RISE_MONTHS - 1)), add_months(latest, -(2 * RISE_MONTHS - 1))
    months = len(months_with_data(date_from, latest))
    months_recent = len(months_with_data(recent_from, latest))
    months_before = len(months_with_data(before_from, add_months(recent_from, -1)))
    window = _sum_by_ward(counts_by_ward(date_from, latest, include_asb=True), wards, below)
    recent = _sum_by_ward(counts_by_ward(recent_from, latest, include_asb=True), wards, below)
    before = _sum_by_ward(counts_by_ward(before_from, add_months(recent_from, -1), include_asb=True), wards, below)
    rows = []
    for w in wards:
        rate = (window[w.id] * 1000.0 / w.population * 12 / months) if w.population and months else None
        rows.append(WardCoverage(w, window[w.id], months, rate, recent[w.id], before[w.id],
                                 change_pct(recent[w.id], before[w.id], months_recent, months_before),
                                 tasks[w.id], concerns[w.id]))
    rate_ranks = _rank(rows, lambda r: r.rate)
    rise_ranks = _rank(rows, lambda r: r.rise if months_before else None)
    top = math.ceil(len(rate_ranks) / 4)
    for row in rows:
        row.rate_rank, row.rise_rank = rate_ranks.get(row.ward.id), rise_ranks.get(row.ward.id)
        row.high_harm = row.rate_rank is not None and row.rate_rank <= top and row.crimes > 0
    coverage.date_from = date_from
    coverage.wards = sorted(rows, key=lambda r: (r.rate_rank is None, r.rate_rank or 0, r.ward.name))
    return coverage


def high_harm_no_task_items(area):
    """The Bronze agenda's "high harm, no task" items: (kind, summary, concern id, task id) for each ward of
    the area in the top quarter by crime and ASB rate with no live task."""
    coverage = area_coverage(area)
    return [("high_harm_no_task", _high_harm_summary(coverage, w), None, None) for w in coverage.flagged]


def _high_harm_summary(coverage, w):
    concerns = f"; {w.open_concerns} open concern{'s' if w.open_concerns != 1 else ''}" if w.open_concerns else ""
    return (f"High harm, no task: {w.ward.name} has {w.rate:.1f} recorded crimes and ASB per 1,000 residents a "
            f"year ({coverage.date_from:%b %Y} to {coverage.latest:%b %Y}), rank {w.rate_rank} of the "
            f"{coverage.area.name} area's wards, and no live task{concerns}")


# ---- what residents, PACT meetings and the police data each say ----------------------------------------

def crime_types_for(category_name):
    """The police.uk types (slugs) that record a concern category's problem; () when crime data cannot
    see it (speeding, parking, litter). Read from the category -> police.uk type table that the
    before-and-after evidence uses too (seed/category_crime_types.csv), once a request."""
    if "category_crime_types" not in g:
        mapping = {}
        for name, kind in db.session.execute(select(ConcernCategory.name, CategoryCrimeType.crime_type).join(
                CategoryCrimeType, CategoryCrimeType.category_id == ConcernCategory.id)
                .order_by(ConcernCategory.name, CategoryCrimeType.crime_type)):
            mapping.setdefault(name.upper(), []).append(kind)
        g.category_crime_types = {name: tuple(kinds) for name, kinds in mapping.items()}
    return g.category_crime_types.get((category_name or "").upper(), ())


@dataclass
class Signals:
    locality: Locality
    survey: list  # [(rank, topic, category name or None, visible to crime data)]
    survey_of: Optional[Locality]  # where the survey results come from (the locality or the nearest above)
    survey_period: Optional[str]
    pact: list  # [(category name, concerns, visible to crime data)], most first
    pact_from: Optional[object]
    pact_to: Optional[object]
    crime: list  # [(type label, count, recent, before)], most first
    crime_from: Optional[object]
    crime_to: Optional[object]
    disagreements: list  # sentences


def _survey(locality):
    """The latest period of the nearest Community Survey results for the locality or a place above it."""
    ancestors, place = [], locality
    while place is not None:
        ancestors.append(place.id)
        place = place.parent
    rows = db.session.execute(select(SurveyResult.locality_id, func.max(SurveyResult.period))
                              .where(SurveyResult.locality_id.in_(ancestors))
                              .group_by(SurveyResult.locality_id)).all()
    if not rows:
        return None, None, []
    nearest = min(rows, key=lambda row: ancestors.index(row[0]))
    results = db.session.execute(
        select(SurveyResult.rank, SurveyResult.topic, ConcernCategory.name)
        .outerjoin(ConcernCategory, ConcernCategory.id == SurveyResult.category_id)
        .where(SurveyResult.locality_id == nearest[0], SurveyResult.period == nearest[1])
        .order_by(SurveyResult.rank).limit(TOP_SIGNALS)).all()
    return (db.session.get(Locality, nearest[0]), nearest[1],
            [(rank, topic, name, bool(crime_types_for(name)) if name else None) for rank, topic, name in results])


def _pact(ids):
    """PACT concerns by category over the 12 months to the latest one raised in the place (only those raised
    at PACT meetings, as portal/evidence/figures.py counts them: not the survey's, a partner's or a resident's)."""
    pact = Concern.source == "pact"
    latest = db.session.execute(select(func.max(Concern.raised_on))
                                .where(Concern.locality_id.in_(ids), pact)).scalar()
    if latest is None:
        return None, None, []
    since = latest - timedelta(days=365)
    rows = db.session.execute(
        select(ConcernCategory.name, func.count()).join(Concern, Concern.category_id == ConcernCategory.id)
        .where(Concern.locality_id.in_(ids), pact, Concern.raised_on > since, Concern.raised_on <= latest)
        .group_by(ConcernCategory.name).order_by(func.count().desc(), ConcernCategory.name)).all()
    return since + timedelta(days=1), latest, [(name, n, bool(crime_types_for(name))) for name, n in rows]


def locality_signals(locality):
    """The Community Survey's top concerns, PACT concerns by category and recorded crime by type for a
    locality side by side, with a sentence wherever they disagree: a survey topic the crime data cannot see,
    a type of crime rising with no PACT concern about it, the most raised PACT category with no crime
    recorded of its types."""
    ids = descendants_map().get(locality.id, {locality.id})
    survey_of, period, survey = _survey(locality)
    pact_from, pact_to, pact = _pact(ids)
    latest, crime, crime_from = latest_month(), [], None
    disagreements = [f"Residents rank {topic.lower()} {_ordinal(rank)} in the Community Survey; recorded crime "
                     "cannot see it" for rank, topic, name, visible in survey if name is not None and not visible]
    if latest is not None:
        crime_from = add_months(latest, -(WINDOW_MONTHS - 1))
        recent_from = add_months(latest, -(RISE_MONTHS - 1))
        before_from, before_to = add_months(latest, -(2 * RISE_MONTHS - 1)), add_months(recent_from, -1)
        window = crime_counts(crime_from, latest, ids)
        recent, before = crime_counts(recent_from, latest, ids), crime_counts(before_from, before_to, ids)
        crime = sorted(((LABELS.get(t, t), n, recent.get(t, 0), before.get(t, 0), t) for t, n in window.items()),
                       key=lambda row: (-row[1], row[0]))
        raised_types = {t for name, _, _ in pact for t in crime_types_for(name)}
        for label, _, now, earlier, kind in crime:
            if now > earlier and earlier and kind not in raised_types:
                disagreements.append(f"{label} is rising ({earlier} in {before_from:%b %Y}, {now} in "
                                     f"{latest:%b %Y}) with no PACT concern about it")
        if pact and pact[0][2] and not any(window.get(t) for t in crime_types_for(pact[0][0])):
            disagreements.append(f"PACT meetings raise {pact[0][0].lower()} most, but no crime of its kind "
                                 "is recorded here")
    crime_rows = [row[:4] for row in crime]
    return Signals(locality, survey, survey_of, period, pact, pact_from, pact_to, crime_rows, crime_from, latest,
                   disagreements)


def _ordinal(n):
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")
