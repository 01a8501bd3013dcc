"""The SQL of the evidence: monthly counts for many tasks at once, read from crime_monthly_counts
(month x ward x type) and the concerns table, never from the crime rows.

Each task brings a spec row (its place, its comparison place, its window) and its crime types or concern
categories; one statement per few hundred tasks joins them to the counts through the locality tree, so a
page listing 50 tasks costs what a page with one does.
"""
from sqlalchemy import Date, Integer, String, and_, case, column, func, select, values

from ..concerns.models import Concern
from ..crime.models import CrimeMonthlyCount as Counts
from ..extensions import db
from ..places.models import Locality

# Parameters per statement stay well under PostgreSQL's 65,535 and SQLite's 32,766.
CHUNK = 400
HERE, REST = 1, 0


def _closure(name):
    """(anc, loc): every locality paired with itself and each locality below it (a recursive CTE)."""
    tree = select(Locality.id.label("anc"), Locality.id.label("loc")).cte(name, recursive=True)
    return tree.union_all(select(tree.c.anc, Locality.id).where(Locality.parent_id == tree.c.loc))


def _spec(rows):
    return values(column("task_id", Integer), column("here_id", Integer), column("compare_id", Integer),
                  column("first", Date), column("last", Date), name="spec").data(rows).cte("spec")


def _chunks(specs):
    ids = list(specs)
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def crime_by_month(specs, kinds):
    """{(task id, month, HERE or REST): recorded count} for each task's crime types in its window.
    ``specs``: {task id: (here id, compare id, first month, last month)}; ``kinds``: {task id: [types]}.
    REST is the compare place without the task's own place. Months without a row are absent."""
    result = {}
    for ids in _chunks([t for t in specs if kinds.get(t)]):
        spec = _spec([(t, *specs[t]) for t in ids])
        kind = values(column("task_id", Integer), column("crime_type", String), name="kinds").data(
            [(t, k) for t in ids for k in kinds[t]]).cte("kinds")
        closure = _closure("closure")
        inside, here = closure.alias("inside"), closure.alias("here")
        side = case((here.c.loc.is_not(None), HERE), else_=REST)
        query = (select(spec.c.task_id, Counts.month, side, func.sum(Counts.n))
                 .join(inside, inside.c.anc == spec.c.compare_id)
                 .join(Counts, and_(Counts.locality_id == inside.c.loc, Counts.month >= spec.c.first,
                                    Counts.month <= spec.c.last))
                 .join(kind, and_(kind.c.task_id == spec.c.task_id, kind.c.crime_type == Counts.crime_type))
                 .outerjoin(here, and_(here.c.anc == spec.c.here_id, here.c.loc == inside.c.loc))
                 .group_by(spec.c.task_id, Counts.month, side))
        for task_id, month, where, n in db.session.execute(query):
            result[(task_id, month, where)] = int(n)
    return result


def concerns_by_window(specs, categories, days):
    """{(task id, before?): PACT concerns} of each task's categories raised in its place, before or after its
    response. ``days``: {task id: (start, split, resume, stop)}: before is [start, split), after is
    [resume, stop) (the response month itself is in neither); ``categories``: {task id: [category ids]}."""
    result = {}
    for ids in _chunks([t for t in specs if categories.get(t)]):
        spec = values(column("task_id", Integer), column("here_id", Integer), column("start", Date),
                      column("split", Date), column("resume", Date), column("stop", Date),
                      name="cspec").data([(t, specs[t][0], *days[t]) for t in ids]).cte("cspec")
        cats = values(column("task_id", Integer), column("category_id", Integer), name="cats").data(
            [(t, c) for t in ids for c in categories[t]]).cte("cats")
        here = _closure("closure")
        before = case((Concern.raised_on < spec.c.split, 1), else_=0)
        query = (select(spec.c.task_id, before, func.count())
                 .join(here, here.c.anc == spec.c.here_id)
                 .join(Concern, Concern.locality_id == here.c.loc)
                 .join(cats, and_(cats.c.task_id == spec.c.task_id, cats.c.category_id == Concern.category_id))
                 .where(Concern.source == "pact", Concern.raised_on >= spec.c.start,
                        (Concern.raised_on < spec.c.split) | and_(Concern.raised_on >= spec.c.resume,
                                                                  Concern.raised_on < spec.c.stop))
                 .group_by(spec.c.task_id, before))
        for task_id, is_before, n in db.session.execute(query):
            result[(task_id, bool(is_before))] = int(n)
    return result
