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
from .categories import ASB
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


def crime_rates(localities, date_from, date_to):
    """{locality id: CrimeRate} of recorded crime (not ASB) for each locality, over [date_from, date_to],
    in two queries whatever the number of localities."""
    from ..places.services import descendants_map

    months = len(months_with_data(date_from, date_to))
    by_ward = counts_by_ward(date_from, date_to)
    below = descendants_map()
    return {loc.id: CrimeRate(sum(by_ward.get(i, 0) for i in below.get(loc.id, {loc.id})), months, loc.population)
            for loc in localities}


def change_pct(now, before, months_now=1, months_before=1):
    """Change between two windows, month for month (so a window with fewer months of data is not
    read as a fall). None when the earlier window has nothing to compare with."""
    if not before or not months_now or not months_before:
        return None
    return 100.0 * (now / months_now - before / months_before) / (before / months_before)
