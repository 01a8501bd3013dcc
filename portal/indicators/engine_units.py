"""Which statements each source's unit of work runs (the portal's own tables may not all exist yet)."""
from sqlalchemy import inspect

from ..extensions import db
from . import engine


def _portal():
    statements = [engine.WE_DID_SQL]
    if inspect(db.session.get_bind()).has_table("tasks"):
        statements.append(engine.TASKS_SQL)
    return statements


UNITS = {
    "police_crime": lambda: [engine.CRIME_SQL],
    "portal": _portal,
    "manual": lambda: [engine.MANUAL_SQL],
}
