"""Recorded crime figures read from the monthly counts (month x ward x type), never from the rows.

Every page that shows police data (residents' locality pages, the strategic
assessment, the tasking agenda) reads these functions, so a rate is computed
the same way everywhere: the count over the months that have data, per 1,000
residents, annualised by those months (x 12 / months with data).
"""
from dataclasses import dataclass
from datetime import date
from typing import Optional

from sqlalchemy import func, select

from ..extensions import db
from ..places.models import Locality
from ..places.services import descendants_map
from .categories import ASB, LABELS
from .models import CrimeMonthlyCount as Counts


def latest_month() -> Optional[date]:
    return db.session.execute(select(func.max(Counts.month))).scalar()


def months_with_data(date_from, date_to):
    """The months in [date_from, date_to] that hold police data, oldest first."""
    return list(db.session.execute(select(Counts.month).where(Counts.month >= date_from, Counts.month <= date_to)
                                   .distinct().order_by(Counts.month)).scalars())


def crime_counts(date_from, date_to, ward_ids=None):
    """{crime_type: count} in the months [date_from, date_to], for the given wards (default: all)."""
    query = select(Counts.crime_type, func.sum(Counts.n)).where(Counts.month >= date_from, Counts.month <= date_to)
    if ward_ids is not None:
        query = query.where(Counts.locality_id.in_(ward_ids))
    return {kind: int(n) for kind, n in db.session.execute(query.group_by(Counts.crime_type)).all()}


def counts_by_ward(date_from, date_to, include_asb=False):
    """{ward id: recorded crime} in the months [date_from, date_to] (ASB left out unless asked)."""
    query = select(Counts.locality_id, func.sum(Counts.n)).where(Counts.month >= date_from, Counts.month <= date_to)
    if not include_asb:
        query = query.where(Counts.crime_type != ASB)
    return {ward: int(n) for ward, n in db.session.execute(query.group_by(Counts.locality_id)).all()}


@dataclass
class CrimeRate:
    crimes: int
    months: int  # months of the window with data
    population: Optional[int]

    @property
    def per_1000_a_year(self):
        if not self.population or not self.months:
            return None
        return self.crimes * 1000.0 / self.population * 12 / self.months


def crime_rates(localities, date_from, date_to, *, months=None, below=None):
    """{locality id: CrimeRate} of recorded crime (not ASB) for each locality, over [date_from, date_to],
    in a few queries whatever the number of localities. Callers that already hold the window's months
    with data or the locality tree (``descendants_map()``) pass them in."""
    months = len(months_with_data(date_from, date_to)) if months is None else months
    by_ward = counts_by_ward(date_from, date_to)
    below = descendants_map() if below is None else below
    return {loc.id: CrimeRate(sum(by_ward.get(i, 0) for i in below.get(loc.id, {loc.id})), months, loc.population)
            for loc in localities}


def change_pct(now, before, months_now=1, months_before=1):
    """Change between two windows, month for month (so a window with fewer months of data is not
    read as a fall). None when the earlier window has nothing to compare with."""
    if not before or not months_now or not months_before:
        return None
    return 100.0 * (now / months_now - before / months_before) / (before / months_before)


def add_months(month, n):
    """The first of the month ``n`` months after ``month`` (before it when ``n`` is negative)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def largest_rises(area, since, held_on, top=3):
    """The tasking agenda's crime items: the area's largest rises by crime type, latest month against the
    month before, as (kind, summary, concern id, task id). ``since`` and ``held_on`` are the agenda's window."""
    latest = latest_month()
    if latest is None:
        return []
    ids = descendants_map().get(area.id, {area.id})
    now, before = crime_counts(latest, latest, ids), crime_counts(add_months(latest, -1), add_months(latest, -1), ids)
    rises = sorted(((now.get(t, 0) - before.get(t, 0), t) for t in now), reverse=True)
    return [("crime_rise", f"{LABELS.get(t, t)} rose by {n} in {latest:%B %Y} ({before.get(t, 0)} to {now[t]}) "
                           f"in the {area.name} area", None, None)
            for n, t in rises[:top] if n > 0]


def headline_crime(locality):
    """Residents' locality page: recorded crime per 1,000 a year here and in the county (public figures),
    over the 12 months to the latest month with data, annualised by the months that have data."""
    latest = latest_month()
    if latest is None or not locality.population:
        return []
    months = months_with_data(add_months(latest, -11), latest)
    county = db.session.execute(select(Locality).where(Locality.level == "county")).scalar_one()
    rates = crime_rates([locality, county], months[0], latest, months=len(months))
    here, there = rates[locality.id].per_1000_a_year, rates[county.id].per_1000_a_year
    period = f"{months[0]:%b %Y} to {latest:%b %Y}"
    return [{"text": f"Recorded crime, {period}: {here:.1f} per 1,000 residents a year in {locality.name}, "
                     f"against {there:.1f} across Shropshire ({'higher' if here > there else 'lower'})."}]
