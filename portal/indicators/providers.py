"""What crime figures add to other features' pages: the tasking agenda and residents' locality pages."""
from sqlalchemy import func, select

from ..crime.categories import ASB, LABELS
from ..crime.models import CrimeRecord
from ..extensions import db
from ..places.models import Locality, descendant_ids
from .periods import add_months
from .services import crime_counts


def _latest_month():
    return db.session.execute(select(func.max(CrimeRecord.month))).scalar()


def largest_rises(area, since, held_on, top=3):
    """Agenda items: the area's largest rises by crime type, latest month against the month before."""
    latest = _latest_month()
    if latest is None:
        return []
    ids = list(db.session.execute(descendant_ids(area.id)).scalars())
    now, before = crime_counts(latest, latest, ids), crime_counts(add_months(latest, -1), add_months(latest, -1), ids)
    rises = sorted(((now.get(t, 0) - before.get(t, 0), t) for t in now), reverse=True)
    return [("crime_rise", f"{LABELS.get(t, t)} rose by {n} in {latest:%B %Y} ({before.get(t, 0)} to {now[t]}) "
                           f"in the {area.name} area", None, None)
            for n, t in rises[:top] if n > 0]


def headline_crime(locality):
    """Residents' locality page: recorded crime per 1,000 a year here and in the county (public figures)."""
    latest = _latest_month()
    if latest is None or not locality.population:
        return []
    first = max(add_months(latest, -11), db.session.execute(select(func.min(CrimeRecord.month))).scalar())
    months = (latest.year - first.year) * 12 + latest.month - first.month + 1
    county = db.session.execute(select(Locality).where(Locality.level == "county")).scalar_one()

    def rate(loc):
        ids = list(db.session.execute(descendant_ids(loc.id)).scalars())
        crimes = sum(n for t, n in crime_counts(first, latest, ids).items() if t != ASB)
        return crimes * 1000.0 / loc.population * 12 / months

    here, there = rate(locality), rate(county)
    period = f"{first:%b %Y} to {latest:%b %Y}"
    return [{"text": f"Recorded crime, {period}: {here:.1f} per 1,000 residents a year in {locality.name}, "
                     f"against {there:.1f} across Shropshire ({'higher' if here > there else 'lower'})."}]


def register():
    from ..public import views as public_views
    from ..tasking import services as tasking

    if largest_rises not in tasking.AGENDA_PROVIDERS:
        tasking.AGENDA_PROVIDERS.append(largest_rises)
    if headline_crime not in public_views.HEADLINE_PROVIDERS:
        public_views.HEADLINE_PROVIDERS.append(headline_crime)
