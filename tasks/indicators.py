from datetime import date

from celery import shared_task

from portal.extensions import cache
from portal.indicators import engine


def _month(text):
    return date.fromisoformat(text) if text else None


@shared_task(name="indicators.rollup")
def rollup(date_from=None, date_to=None, sources=engine.SOURCES, hold_seconds=0):
    """Recompute indicator values (one transaction per source); idempotent. Dates as ISO strings."""
    return engine.rollup(_month(date_from), _month(date_to), tuple(sources), hold_seconds)


@shared_task(name="indicators.refresh_portal")
def refresh_portal(key):
    """A reader found the portal's own figures stale (engine.refresh_portal_figures): recompute them, then
    forget ``key`` so the next change is refreshed at once."""
    try:
        return engine.rollup(sources=("portal",))
    finally:
        cache.delete(key)


@shared_task(name="indicators.rollup_portal")
def rollup_portal():
    """Nightly: the portal's own indicators (concerns answered, tasks on time) for the last two years."""
    return engine.rollup(sources=("portal", "manual"))
