"""The rollup: indicator values for every locality and period, computed in the database.

Each source (police crime, the portal's own records, hand-entered figures) is
one unit of work, one transaction: it deletes its values for the periods the
range touches and inserts them again from a single INSERT ... SELECT.

What makes it safe to run incrementally, in any order:
- A range touches every period that contains one of its months, and each of
  those periods is recomputed whole, from all of its months, not only the
  months of the range. So importing October again (or an older month after
  newer ones) recomputes the quarter, half year, year and the twelve rolling
  windows that contain it, with the months after it too: the values are
  always those a from-scratch rollup of the stored rows would give.
- A period exists when at least one of its months has data, and a rolling
  window when its last month has data, so which periods exist is a property
  of the data, not of the order in which it arrived.
- The change on last year is refreshed for the touched periods and for the
  periods a year later, whose comparison the touched ones are.
- Units take one lock (an advisory lock on PostgreSQL; SQLite serialises
  writers itself), so a beat rollup and an import's rollup never interleave.

Crime is read from crime_monthly_counts (month x ward x type, written by the
import with the rows), never from the rows themselves; everything after that
fans the counts out to every ancestor locality (a recursive CTE over the
locality tree) and to every period (the period_months calendar).
"""
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import delete, insert, inspect, select, text, tuple_

from ..crime.models import CrimeMonthlyCount
from ..extensions import cache, db
from ..models import utcnow
from ..plan.models import IndicatorDefinition
from .models import IndicatorCrimeType, PeriodMonth, RollupRun
from .periods import add_months, months_between, periods_of

log = logging.getLogger(__name__)
SOURCES = ("police_crime", "portal", "manual")
ROLLUP_LOCK = 0x5C5B_0001  # the advisory lock every unit of work takes on PostgreSQL

# Every locality with each of its ancestors (and itself): how a ward's counts reach its area and the county.
ANCESTORS = """
    ancestors(locality_id, ancestor_id) AS (
        SELECT id, id FROM localities
        UNION ALL
        SELECT a.locality_id, l.parent_id FROM ancestors a JOIN localities l ON l.id = a.ancestor_id
        WHERE l.parent_id IS NOT NULL
    )"""

# The months each source has data for.
CRIME_MONTHS = "SELECT DISTINCT month FROM crime_monthly_counts"
PORTAL_MONTHS = "SELECT month FROM period_months WHERE period_type = 'month' AND month <= :this_month"

# The periods the range touches (every period containing one of its months), whole, with how many of
# their months have data. A period with no data does not exist; a rolling window exists when its last
# month has data.
PERIODS = """
    data_months AS ({data_months}),
    periods AS (
        SELECT pm.period_type, pm.period_start, MIN(pm.period_end) AS period_end,
               MIN(pm.year_before) AS year_before, COUNT(dm.month) AS months
        FROM period_months pm
        LEFT JOIN data_months dm ON dm.month = pm.month
        WHERE EXISTS (SELECT 1 FROM period_months t WHERE t.period_type = pm.period_type
                      AND t.period_start = pm.period_start AND t.month >= :date_from AND t.month <= :date_to)
        GROUP BY pm.period_type, pm.period_start
        HAVING COUNT(dm.month) > 0
           AND (pm.period_type != 'rolling_12' OR MIN(pm.period_end) IN (SELECT month FROM data_months))
    )"""

TOUCHED = """EXISTS (SELECT 1 FROM period_months t WHERE t.period_type = indicator_values.period_type
                     AND t.period_start = indicator_values.period_start
                     AND t.month >= :date_from AND t.month <= {last})"""

# No computed figure where an analyst's figure stands for the same indicator, locality and period (the
# computed one stays until the manual unit has put the analyst's in its place).
NOT_HAND_ENTERED = """NOT EXISTS (SELECT 1 FROM indicator_values hv WHERE hv.indicator_id = i.id
                     AND hv.locality_id = l.id AND hv.period_type = p.period_type
                     AND hv.period_start = p.period_start AND hv.entered_by_hand = :yes)"""

INSERT_COLUMNS = ("indicator_id, locality_id, period_type, period_start, period_end, year_before, numerator, "
                  "denominator, value, months, entered_by_hand, computed_at")

CRIME_SQL = f"""
INSERT INTO indicator_values ({INSERT_COLUMNS}, previous_value, previous_months)
WITH RECURSIVE {ANCESTORS},
    {PERIODS.format(data_months=CRIME_MONTHS)},
    monthly AS (
        SELECT ict.indicator_id, m.locality_id, m.month, SUM(m.n) AS n
        FROM crime_monthly_counts m
        JOIN indicator_crime_types ict ON ict.crime_type = m.crime_type
        WHERE m.month >= :months_from AND m.month <= :months_to
        GROUP BY ict.indicator_id, m.locality_id, m.month
    ),
    ward_counts AS (
        SELECT m.indicator_id, m.locality_id, pm.period_type, pm.period_start, SUM(m.n) AS n
        FROM monthly m
        JOIN period_months pm ON pm.month = m.month
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        GROUP BY m.indicator_id, m.locality_id, pm.period_type, pm.period_start
    ),
    counts AS (
        SELECT w.indicator_id, a.ancestor_id AS locality_id, w.period_type, w.period_start, SUM(w.n) AS n
        FROM ward_counts w
        JOIN ancestors a ON a.locality_id = w.locality_id
        GROUP BY w.indicator_id, a.ancestor_id, w.period_type, w.period_start
    )
SELECT i.id, l.id, p.period_type, p.period_start, p.period_end, p.year_before, COALESCE(c.n, 0), l.population,
       CASE WHEN i.unit = 'rate_per_1000' THEN
                CASE WHEN l.population > 0 THEN COALESCE(c.n, 0) * 1000.0 / l.population END
            ELSE COALESCE(c.n, 0) END,
       p.months, :no, :now, prev.value, prev.months
FROM indicator_definitions i
CROSS JOIN localities l
CROSS JOIN periods p
LEFT JOIN counts c ON c.indicator_id = i.id AND c.locality_id = l.id AND c.period_type = p.period_type
                  AND c.period_start = p.period_start
LEFT JOIN indicator_values prev ON prev.indicator_id = i.id AND prev.locality_id = l.id
                  AND prev.period_type = p.period_type AND prev.period_start = p.year_before
                  AND prev.entered_by_hand = :no
WHERE i.source = 'police_crime' AND {NOT_HAND_ENTERED}
"""


def share_sql(counts, numerator, denominator, code):
    """A percentage indicator from the portal's own records: ``counts`` is a CTE giving, per locality
    and period, the two counts; the share is numerator / denominator (periods with nothing due yet
    have no value)."""
    return (f"INSERT INTO indicator_values ({INSERT_COLUMNS})\n"
            f"WITH RECURSIVE {ANCESTORS},\n"
            + PERIODS.format(data_months=PORTAL_MONTHS) + ",\n"
            + f"    counts AS ({counts})\n"
            f"SELECT i.id, c.locality_id, c.period_type, c.period_start, p.period_end, p.year_before,\n"
            f"       c.{numerator}, c.{denominator}, c.{numerator} * 100.0 / c.{denominator}, p.months, :no, :now\n"
            "FROM counts c\n"
            "JOIN periods p ON p.period_type = c.period_type AND p.period_start = c.period_start\n"
            f"CROSS JOIN indicator_definitions i WHERE i.code = '{code}' AND c.{denominator} > 0")


# Share of concerns raised in the period that had a published "We did" within 28 days, out of those
# whose 28 days have passed or that were answered: work not yet due is not a failure.
WE_DID_SQL = share_sql("""
        SELECT a.ancestor_id AS locality_id, pm.period_type, pm.period_start,
               SUM(CASE WHEN {plus_28} < :today OR ({answered}) THEN 1 ELSE 0 END) AS raised,
               SUM(CASE WHEN {answered} THEN 1 ELSE 0 END) AS answered
        FROM concerns c
        JOIN ancestors a ON a.locality_id = c.locality_id
        JOIN period_months pm ON pm.month = {month_of_raised}
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        WHERE c.repeat_of_id IS NULL AND c.status != 'no_further_action'
        GROUP BY a.ancestor_id, pm.period_type, pm.period_start""", "answered", "raised", "we-did-within-28-days")

# Share of tasks due in the period that were completed by their due date (by the task's area), out of
# those whose due date has passed or that were completed.
TASKS_SQL = share_sql("""
        SELECT a.ancestor_id AS locality_id, pm.period_type, pm.period_start,
               SUM(CASE WHEN t.due_on < :today OR t.completed_on IS NOT NULL THEN 1 ELSE 0 END) AS due,
               SUM(CASE WHEN t.completed_on IS NOT NULL AND t.completed_on <= t.due_on THEN 1 ELSE 0 END) AS on_time
        FROM tasks t
        JOIN ancestors a ON a.locality_id = t.area_id
        JOIN period_months pm ON pm.month = {month_of_due}
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        WHERE t.status != 'escalated'
        GROUP BY a.ancestor_id, pm.period_type, pm.period_start""", "on_time", "due", "tasks-completed-on-time")

# Share of residents' answers to "Has this made a difference?" given in the period that said Yes or Partly
# (feedback.models.MADE_A_DIFFERENCE), by the answered concern's locality: the portal's own evidence from
# whoever chose to answer, not a sample survey like NI 21 and NI 5.
FEEDBACK_SQL = share_sql("""
        SELECT a.ancestor_id AS locality_id, pm.period_type, pm.period_start,
               COUNT(*) AS answers,
               SUM(CASE WHEN f.answer IN ('yes', 'partly') THEN 1 ELSE 0 END) AS made_a_difference
        FROM feedback_answers f
        JOIN concerns c ON c.id = f.concern_id
        JOIN ancestors a ON a.locality_id = c.locality_id
        JOIN period_months pm ON pm.month = {month_of_answer}
        JOIN periods p ON p.period_type = pm.period_type AND p.period_start = pm.period_start
        GROUP BY a.ancestor_id, pm.period_type, pm.period_start""", "made_a_difference", "answers",
                         "residents-say-made-a-difference")

# The latest hand-entered figure for each indicator, locality and period: it replaces whatever the
# other sources computed for that key (an analyst's figure for the real measure beats a proxy).
MANUAL_DELETE_SQL = f"""
DELETE FROM indicator_values
WHERE {TOUCHED.format(last=":date_to")}
  AND (entered_by_hand = :yes OR EXISTS (
        SELECT 1 FROM manual_values mv WHERE mv.indicator_id = indicator_values.indicator_id
        AND mv.locality_id = indicator_values.locality_id AND mv.period_type = indicator_values.period_type
        AND mv.period_start = indicator_values.period_start))
"""

MANUAL_SQL = f"""
INSERT INTO indicator_values ({INSERT_COLUMNS})
SELECT mv.indicator_id, mv.locality_id, mv.period_type, mv.period_start, p.period_end, p.year_before, NULL, NULL,
       mv.value, p.months, :yes, :now
FROM manual_values mv
JOIN (SELECT indicator_id, locality_id, period_type, period_start, MAX(id) AS latest FROM manual_values
      GROUP BY indicator_id, locality_id, period_type, period_start) last ON last.latest = mv.id
JOIN (SELECT period_type, period_start, MIN(period_end) AS period_end, MIN(year_before) AS year_before,
             COUNT(*) AS months
      FROM period_months GROUP BY period_type, period_start) p
  ON p.period_type = mv.period_type AND p.period_start = mv.period_start
WHERE EXISTS (SELECT 1 FROM period_months t WHERE t.period_type = mv.period_type
              AND t.period_start = mv.period_start AND t.month >= :date_from AND t.month <= :date_to)
"""

# The same period a year earlier: its value and months, for the change on last year. Refreshed for the
# touched periods and the periods a year later (every source: values of one key come from one source),
# like with like: an analyst's real measure is never compared with last year's police proxy. Only rows
# whose comparison changed are written (the crime INSERT already brings its own from the year before).
PREVIOUS_SQL = """
UPDATE indicator_values SET previous_value = x.value, previous_months = x.months
FROM (
    WITH touched AS (
        SELECT DISTINCT period_type, period_start FROM period_months WHERE month >= :date_from AND month <= :date_to
    ),
    targets AS (
        SELECT period_type, period_start FROM touched
        UNION
        SELECT pm.period_type, pm.period_start FROM period_months pm
        JOIN touched t ON t.period_type = pm.period_type AND t.period_start = pm.year_before
    )
    SELECT cur.id, prev.value, prev.months
    FROM targets g
    JOIN indicator_values cur ON cur.period_type = g.period_type AND cur.period_start = g.period_start
    LEFT JOIN indicator_values prev ON prev.indicator_id = cur.indicator_id AND prev.locality_id = cur.locality_id
         AND prev.period_type = cur.period_type AND prev.period_start = cur.year_before
         AND prev.entered_by_hand = cur.entered_by_hand
) x
WHERE indicator_values.id = x.id
  AND (indicator_values.previous_value {distinct} x.value OR indicator_values.previous_months {distinct} x.months)
"""

DELETE_SQL = f"""
DELETE FROM indicator_values
WHERE indicator_id IN (SELECT id FROM indicator_definitions WHERE source = :source)
  AND entered_by_hand = :no AND {TOUCHED.format(last=":date_to")}
"""


def _dialect_sql(sql):
    """The date expressions that differ between SQLite and PostgreSQL."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    answered = ("c.published AND c.responded_on IS NOT NULL AND c.responded_on <= {plus_28}")
    plus_28 = "c.raised_on + 28" if postgres else "date(c.raised_on, '+28 days')"
    return sql.replace("{answered}", answered).format(
        plus_28=plus_28, distinct="IS DISTINCT FROM" if postgres else "IS NOT",
        month_of_raised="date_trunc('month', c.raised_on)::date" if postgres else "date(c.raised_on, 'start of month')",
        month_of_due="date_trunc('month', t.due_on)::date" if postgres else "date(t.due_on, 'start of month')",
        month_of_answer="date_trunc('month', f.answered_at)::date" if postgres
        else "date(f.answered_at, 'start of month')",
    )


def take_rollup_lock():
    """Serialise units of work that write indicator values (held until the transaction ends)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK})


def ensure_calendar(first, last):
    """Add the period_months rows for the months from first to last (a no-op for months already there)."""
    take_rollup_lock()
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
    """indicator_crime_types from the definitions' lists (an empty list means all recorded crime, not ASB).
    Only the differences are written, so rollups running one after another leave shared rows alone."""
    from ..crime.categories import ASB, SLUGS

    wanted = set()
    for indicator in db.session.execute(select(IndicatorDefinition).where(
            IndicatorDefinition.source == "police_crime")).scalars():
        types = indicator.crime_types or sorted(set(SLUGS.values()) - {ASB})
        wanted |= {(indicator.id, t) for t in types}
    have = set(db.session.execute(select(IndicatorCrimeType.indicator_id, IndicatorCrimeType.crime_type)).all())
    if have - wanted:
        db.session.execute(delete(IndicatorCrimeType).where(
            tuple_(IndicatorCrimeType.indicator_id, IndicatorCrimeType.crime_type).in_(sorted(have - wanted))))
    if wanted - have:
        db.session.execute(insert(IndicatorCrimeType),
                           [dict(indicator_id=i, crime_type=t) for i, t in sorted(wanted - have)])


def default_range():
    """From the first month anything happened (crime, concerns, tasks due, hand-entered figures) to this
    month or the latest crime month, whichever is later."""
    from ..concerns.models import Concern

    first_crime, last_crime = db.session.execute(select(db.func.min(CrimeMonthlyCount.month),
                                                        db.func.max(CrimeMonthlyCount.month))).one()
    starts = [first_crime, db.session.execute(select(db.func.min(Concern.raised_on))).scalar(),
              db.session.execute(text("SELECT MIN(period_start) FROM manual_values")).scalar()]
    if inspect(db.session.get_bind()).has_table("tasks"):
        starts.append(db.session.execute(text("SELECT MIN(due_on) FROM tasks")).scalar())
    starts = [date.fromisoformat(d) if isinstance(d, str) else d for d in starts if d is not None]
    today = date.today().replace(day=1)
    first = min(starts) if starts else add_months(today, -24)
    return first.replace(day=1), max(last_crime or today, today)


def rollup_source(source, date_from, date_to, hold_seconds=0):
    """One unit of work: a source's values for every period touching [date_from, date_to]. Commits."""
    date_from, date_to = date_from.replace(day=1), date_to.replace(day=1)
    started = time.monotonic()
    today = date.today()
    params = {"date_from": date_from, "date_to": date_to, "months_from": add_months(date_from, -11),
              "months_to": add_months(date_to, 11), "source": source, "now": utcnow(), "today": today,
              "this_month": today.replace(day=1), "yes": True, "no": False}
    try:
        take_rollup_lock()
        ensure_calendar(add_months(date_from, -23), add_months(date_to, 23))
        if source == "police_crime":
            sync_crime_types()
        db.session.execute(text(MANUAL_DELETE_SQL if source == "manual" else DELETE_SQL), params)
        for sql in UNITS[source]():
            db.session.execute(text(_dialect_sql(sql)), params)
        db.session.execute(text(_dialect_sql(PREVIOUS_SQL)), params)
        db.session.merge(RollupRun(source=source, finished_at=params["now"], on_day=today))
        if hold_seconds:
            time.sleep(hold_seconds)  # the crash test kills the worker here, mid-transaction
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    rows, seconds = count_values(source, date_from, date_to), round(time.monotonic() - started, 3)
    log.info("Rolled up %s for %s to %s: %s values in %s s", source, date_from, date_to, rows, seconds,
             extra={"source": source, "date_from": date_from, "date_to": date_to, "rows": rows, "seconds": seconds})
    return rows


def count_values(source, date_from, date_to):
    """The source's values for the periods touching the range (read through the periods' index)."""
    return db.session.execute(text(
        "SELECT COUNT(*) FROM indicator_values v "
        "JOIN (SELECT DISTINCT period_type, period_start FROM period_months "
        "      WHERE month >= :date_from AND month <= :date_to) t "
        "  ON t.period_type = v.period_type AND t.period_start = v.period_start "
        "WHERE v.indicator_id IN (SELECT id FROM indicator_definitions WHERE source = :source)"),
        {"source": source, "date_from": date_from, "date_to": date_to}).scalar_one()


def rollup(date_from=None, date_to=None, sources=SOURCES, hold_seconds=0):
    """Recompute every source for the periods touching the range (default: everything). {source: rows}.

    The portal's own measures are always recomputed whole: they depend on today's date (what is due)
    and cost one GROUP BY over concerns and tasks."""
    default_from, default_to = default_range()
    result = {}
    for source in sources:
        whole = source == "portal" or date_from is None
        result[source] = rollup_source(source, default_from if whole else date_from,
                                       default_to if whole or date_to is None else date_to, hold_seconds)
    return result


def portal_figures_stale():
    """True when the portal's own measures were last computed before a concern, task or residents'
    answer changed, or on an earlier day (what is due moves with the date), or never."""
    return _stale_since(_newest_change())


def _stale_since(newest):
    run = db.session.get(RollupRun, "portal")
    if run is None or run.on_day < date.today():
        return True
    return newest is not None and newest > run.finished_at


def _newest_change():
    """The latest change to what the portal's own measures count, each read from an index (0022)."""
    present = inspect(db.session.get_bind())
    tables = [(t, "updated_at") for t in ("concerns", "tasks") if t == "concerns" or present.has_table(t)]
    tables += [("feedback_answers", "answered_at")] if present.has_table("feedback_answers") else []
    changed = [_datetime(db.session.execute(text(f"SELECT MAX({column}) FROM {t}")).scalar()) for t, column in tables]
    return max((at for at in changed if at is not None), default=None)


def bring_portal_figures_up_to_date():
    """Recompute the portal's own measures now if they are stale (a CSV download, an issued pack: what
    leaves the portal is current). Returns whether they were."""
    if not portal_figures_stale():
        return False
    rollup(sources=("portal",))
    return True


REFRESH_KEY = "indicators:portal-refresh"
REFRESH_SECONDS = 120  # a refresh queued and lost (a worker killed) is queued again after this


def refresh_portal_figures():
    """Brings the portal's own figures up to date for a reader. Returns None when they are current;
    otherwise a worker is recomputing them, which at a county's scale takes seconds no page should
    wait for, and it returns when the figures shown were computed (None if never). One refresh is
    queued for each newest change (a later change queues its own; the job forgets its key when done).
    In the embedded mode there is no worker, and without Redis or the broker none can be asked: the
    figures are recomputed here and now."""
    newest = _newest_change()  # once: it decides whether the figures are stale and names the refresh
    if not _stale_since(newest):
        return None
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        rollup(sources=("portal",))
        return None
    key = f"{REFRESH_KEY}:{date.today()}:{newest}"
    try:
        if cache.add(key, True, timeout=REFRESH_SECONDS):
            celery.tasks["indicators.refresh_portal"].delay(key)
    except Exception:  # Redis or the broker unreachable: current figures, slowly, rather than an error
        log.warning("Could not queue a refresh of the portal's figures; computing them now", exc_info=True)
        rollup(sources=("portal",))
        return None
    run = db.session.get(RollupRun, "portal")
    return Refreshing(run.finished_at if run else None)


@dataclass(frozen=True)
class Refreshing:
    """The portal's figures are being recomputed; those shown were computed at ``computed_at`` (UTC)."""

    computed_at: datetime | None


def _datetime(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _portal_statements():
    # The tasks and feedback tables come with their features; a deployment without them still rolls up concerns.
    tables = inspect(db.session.get_bind())
    return [WE_DID_SQL] + ([TASKS_SQL] if tables.has_table("tasks") else []) + (
        [FEEDBACK_SQL] if tables.has_table("feedback_answers") else [])


# The statements of each source's unit of work.
UNITS = {
    "police_crime": lambda: [CRIME_SQL],
    "portal": _portal_statements,
    "manual": lambda: [MANUAL_SQL],
}
