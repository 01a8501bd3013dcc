"""The rollup: indicator values for every locality and period, computed in the database.

Each source (police crime, the portal's own records, hand-entered figures) is
one unit of work: delete its values for the period range and insert them again
from a single INSERT ... SELECT, in one transaction. Running it twice gives the
same rows; a worker killed mid-unit leaves the previous values (the
transaction never commits) and a rerun completes it.

Crime rows are counted once, by ward, crime type and month (one GROUP BY over
the crime table, like the hand-written query bench/bench_crime.py compares it
with); everything after that works on those few thousand counts: fanning
them out to every ancestor locality (a recursive CTE over the locality tree)
and to every period (the period_months calendar).
"""
import time
from datetime import date

from sqlalchemy import delete, insert, inspect, select, text

from ..crime.models import CrimeRecord
from ..extensions import db
from ..models import utcnow
from ..plan.models import IndicatorDefinition
from .models import IndicatorCrimeType, PeriodMonth
from .periods import add_months, months_between, periods_of

SOURCES = ("police_crime", "portal", "manual")

# Every locality with each of its ancestors (and itself): how a ward's counts reach its area and the county.
ANCESTORS = """
    ancestors(locality_id, ancestor_id) AS (
        SELECT id, id FROM localities
        UNION ALL
        SELECT a.locality_id, l.parent_id FROM ancestors a JOIN localities l ON l.id = a.ancestor_id
        WHERE l.parent_id IS NOT NULL
    )"""

# Periods touched by the range, with how many of their months have data.
PERIODS = """
    periods AS (
        SELECT pm.period_type, pm.period_start, MIN(pm.period_end) AS period_end,
               MIN(pm.year_before) AS year_before,
               COUNT(DISTINCT CASE WHEN pm.month IN ({data_months}) THEN pm.month END) AS months
        FROM period_months pm
        WHERE pm.period_start <= :date_to AND pm.period_end >= :date_from
          AND (pm.period_type != 'rolling_12' OR pm.period_end <= :date_to)
        GROUP BY pm.period_type, pm.period_start
    )"""

INSERT_COLUMNS = ("indicator_id, locality_id, period_type, period_start, period_end, year_before, numerator, "
                  "denominator, value, months, computed_at")

CRIME_SQL = f"""
INSERT INTO indicator_values ({INSERT_COLUMNS})
WITH RECURSIVE {ANCESTORS},
    monthly AS (
        SELECT locality_id, crime_type, month, COUNT(*) AS n FROM crime_records
        WHERE locality_id IS NOT NULL AND month >= :months_from AND month <= :date_to
        GROUP BY locality_id, crime_type, month
    ),
    {PERIODS.format(data_months="SELECT DISTINCT month FROM monthly")},
    counts AS (
        SELECT ict.indicator_id, a.ancestor_id AS locality_id, pm.period_type, pm.period_start, SUM(m.n) AS n
        FROM monthly m
        JOIN indicator_crime_types ict ON ict.crime_type = m.crime_type
        JOIN ancestors a ON a.locality_id = m.locality_id
        JOIN period_months pm ON pm.month = m.month
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        GROUP BY ict.indicator_id, a.ancestor_id, pm.period_type, pm.period_start
    )
SELECT i.id, l.id, p.period_type, p.period_start, p.period_end, p.year_before, COALESCE(c.n, 0), l.population,
       CASE WHEN i.unit = 'rate_per_1000' THEN
                CASE WHEN l.population > 0 THEN COALESCE(c.n, 0) * 1000.0 / l.population END
            ELSE COALESCE(c.n, 0) END,
       p.months, :now
FROM indicator_definitions i
CROSS JOIN localities l
CROSS JOIN periods p
LEFT JOIN counts c ON c.indicator_id = i.id AND c.locality_id = l.id AND c.period_type = p.period_type
                  AND c.period_start = p.period_start
WHERE i.source = 'police_crime' AND p.months > 0
"""

def share_sql(counts, numerator, denominator, code):
    """A percentage indicator from the portal's own records: ``counts`` is a CTE giving, per locality
    and period, the two counts; the share is numerator / denominator."""
    return (f"INSERT INTO indicator_values ({INSERT_COLUMNS})\n"
            f"WITH RECURSIVE {ANCESTORS},\n"
            + PERIODS.format(data_months="SELECT month FROM period_months WHERE period_type = 'month'") + ",\n"
            + f"    counts AS ({counts})\n"
            f"SELECT i.id, c.locality_id, c.period_type, c.period_start, p.period_end, p.year_before,\n"
            f"       c.{numerator}, c.{denominator}, c.{numerator} * 100.0 / c.{denominator}, p.months, :now\n"
            "FROM counts c\n"
            "JOIN periods p ON p.period_type = c.period_type AND p.period_start = c.period_start\n"
            f"CROSS JOIN indicator_definitions i WHERE i.code = '{code}'")


# Share of concerns raised in the period that had a published "We did" within 28 days.
WE_DID_SQL = share_sql("""
        SELECT a.ancestor_id AS locality_id, pm.period_type, pm.period_start, COUNT(*) AS raised,
               SUM(CASE WHEN c.published AND c.responded_on IS NOT NULL
                         AND c.responded_on <= {plus_28} THEN 1 ELSE 0 END) AS answered
        FROM concerns c
        JOIN ancestors a ON a.locality_id = c.locality_id
        JOIN period_months pm ON pm.month = {month_of_raised}
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        WHERE c.repeat_of_id IS NULL AND c.status != 'no_further_action'
        GROUP BY a.ancestor_id, pm.period_type, pm.period_start""", "answered", "raised", "we-did-within-28-days")

# Share of tasks due in the period that were completed by their due date (by the task's area).
TASKS_SQL = share_sql("""
        SELECT a.ancestor_id AS locality_id, pm.period_type, pm.period_start, COUNT(*) AS due,
               SUM(CASE WHEN t.completed_on IS NOT NULL AND t.completed_on <= t.due_on THEN 1 ELSE 0 END) AS on_time
        FROM tasks t
        JOIN ancestors a ON a.locality_id = t.area_id
        JOIN period_months pm ON pm.month = {month_of_due}
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        WHERE t.status != 'escalated'
        GROUP BY a.ancestor_id, pm.period_type, pm.period_start""", "on_time", "due", "tasks-completed-on-time")

# The latest hand-entered figure for each indicator, locality and period.
MANUAL_SQL = f"""
INSERT INTO indicator_values ({INSERT_COLUMNS})
SELECT mv.indicator_id, mv.locality_id, mv.period_type, mv.period_start, p.period_end, p.year_before, NULL, NULL,
       mv.value, 1, :now
FROM manual_values mv
JOIN (SELECT indicator_id, locality_id, period_type, period_start, MAX(id) AS latest FROM manual_values
      GROUP BY indicator_id, locality_id, period_type, period_start) last ON last.latest = mv.id
JOIN (SELECT period_type, period_start, MIN(period_end) AS period_end, MIN(year_before) AS year_before
      FROM period_months GROUP BY period_type, period_start) p
  ON p.period_type = mv.period_type AND p.period_start = mv.period_start
WHERE mv.period_start <= :date_to AND p.period_end >= :date_from
"""

# The same period a year earlier: its value, for the change on last year.
PREVIOUS_SQL = """
UPDATE indicator_values SET previous_value = (
    SELECT prev.value FROM indicator_values prev
    WHERE prev.indicator_id = indicator_values.indicator_id AND prev.locality_id = indicator_values.locality_id
      AND prev.period_type = indicator_values.period_type AND prev.period_start = indicator_values.year_before)
WHERE indicator_id IN (SELECT id FROM indicator_definitions WHERE source = :source)
  AND period_start <= :date_to AND period_end >= :date_from
"""

DELETE_SQL = """
DELETE FROM indicator_values
WHERE indicator_id IN (SELECT id FROM indicator_definitions WHERE source = :source)
  AND period_start <= :date_to AND period_end >= :date_from
"""


def _dialect_sql(sql):
    """The two date expressions that differ between SQLite and PostgreSQL."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    return sql.format(
        plus_28="c.raised_on + 28" if postgres else "date(c.raised_on, '+28 days')",
        month_of_raised="date_trunc('month', c.raised_on)::date" if postgres else "date(c.raised_on, 'start of month')",
        month_of_due="date_trunc('month', t.due_on)::date" if postgres else "date(t.due_on, 'start of month')",
    )


def ensure_calendar(first, last):
    """Add the period_months rows for the months from first to last (a no-op for months already there)."""
    have = set(db.session.execute(select(PeriodMonth.month).where(
        PeriodMonth.period_type == "month", PeriodMonth.month >= first, PeriodMonth.month <= last)).scalars())
    rows = []
    for month in months_between(first, last):
        if month in have:
            continue
        for period_type, start, end in periods_of(month):
            rows.append(dict(period_type=period_type, period_start=start, period_end=end, month=month,
                             year_before=add_months(start, -12)))
    if rows:
        db.session.execute(insert(PeriodMonth), rows)


def sync_crime_types():
    """indicator_crime_types from the definitions' lists (an empty list means all recorded crime, not ASB)."""
    from ..crime.categories import ASB, SLUGS

    db.session.execute(delete(IndicatorCrimeType))
    rows = []
    for indicator in db.session.execute(select(IndicatorDefinition).where(
            IndicatorDefinition.source == "police_crime")).scalars():
        types = indicator.crime_types or sorted(set(SLUGS.values()) - {ASB})
        rows += [dict(indicator_id=indicator.id, crime_type=t) for t in sorted(set(types))]
    if rows:
        db.session.execute(insert(IndicatorCrimeType), rows)


def default_range():
    """From the first month anything happened (crime, concerns) to this month."""
    from ..concerns.models import Concern

    first_crime, last_crime = db.session.execute(select(db.func.min(CrimeRecord.month),
                                                        db.func.max(CrimeRecord.month))).one()
    first_concern = db.session.execute(select(db.func.min(Concern.raised_on))).scalar()
    today = date.today().replace(day=1)
    starts = [d for d in (first_crime, first_concern) if d is not None]
    first = min(starts) if starts else add_months(today, -24)
    return first.replace(day=1), max(last_crime or today, today)


def rollup_source(source, date_from, date_to, hold_seconds=0):
    """One unit of work: a source's values for the periods overlapping [date_from, date_to]. Commits."""
    params = {"date_from": date_from, "date_to": date_to, "months_from": add_months(date_from, -11),
              "source": source, "now": utcnow()}
    try:
        ensure_calendar(add_months(date_from, -23), add_months(date_to, 11))
        if source == "police_crime":
            sync_crime_types()
        db.session.execute(text(DELETE_SQL), params)
        for sql in UNITS[source]():
            db.session.execute(text(_dialect_sql(sql)), params)
        db.session.execute(text(PREVIOUS_SQL), params)
        if hold_seconds:
            time.sleep(hold_seconds)  # the crash test kills the worker here, mid-transaction
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return count_values(source, date_from, date_to)


def count_values(source, date_from, date_to):
    return db.session.execute(text(
        "SELECT COUNT(*) FROM indicator_values WHERE indicator_id IN "
        "(SELECT id FROM indicator_definitions WHERE source = :source) "
        "AND period_start <= :date_to AND period_end >= :date_from"),
        {"source": source, "date_from": date_from, "date_to": date_to}).scalar_one()


def rollup(date_from=None, date_to=None, sources=SOURCES, hold_seconds=0):
    """Recompute every source for the range (default: all crime months up to this month). {source: rows}."""
    default_from, default_to = default_range()
    date_from, date_to = date_from or default_from, date_to or default_to
    return {source: rollup_source(source, date_from, date_to, hold_seconds) for source in sources}


def _portal_statements():
    # The tasks table comes with the tasking feature; a deployment without it still rolls up concerns.
    if inspect(db.session.get_bind()).has_table("tasks"):
        return [WE_DID_SQL, TASKS_SQL]
    return [WE_DID_SQL]


# The statements of each source's unit of work.
UNITS = {
    "police_crime": lambda: [CRIME_SQL],
    "portal": _portal_statements,
    "manual": lambda: [MANUAL_SQL],
}
