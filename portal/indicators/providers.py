"""What crime figures add to other features' pages: the tasking agenda and residents' locality pages."""
from sqlalchemy import select

from ..crime.categories import LABELS
from ..crime.stats import crime_counts, crime_rates, latest_month, months_with_data
from ..extensions import db
from ..places.models import Locality
from ..places.services import descendants_map
from .periods import add_months


def largest_rises(area, since, held_on, top=3):
    """Agenda items: the area's largest rises by crime type, latest month against the month before."""
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
    rates = crime_rates([locality, county], months[0], latest)
    here, there = rates[locality.id].per_1000_a_year, rates[county.id].per_1000_a_year
    period = f"{months[0]:%b %Y} to {latest:%b %Y}"
    return [{"text": f"Recorded crime, {period}: {here:.1f} per 1,000 residents a year in {locality.name}, "
                     f"against {there:.1f} across Shropshire ({'higher' if here > there else 'lower'})."}]


def register():
    from ..public import views as public_views
    from ..tasking import services as tasking

    if largest_rises not in tasking.AGENDA_PROVIDERS:
        tasking.AGENDA_PROVIDERS.append(largest_rises)
    if headline_crime not in public_views.HEADLINE_PROVIDERS:
        public_views.HEADLINE_PROVIDERS.append(headline_crime)
