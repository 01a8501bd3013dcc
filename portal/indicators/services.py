"""Reading indicator values: the PMCG report with trajectory and RAG, trends, manual entries and
target edits (the strategic assessment is crime's: portal/crime/assessment.py)."""
import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..places.models import Locality
from ..plan.models import IndicatorChange, IndicatorDefinition
from ..plan.services import current_plan
from ..tasking.chain import ActionTasks, tasks_of_actions
from .models import FREQUENCY_PERIODS, PERIOD_LENGTHS, IndicatorValue, ManualValue, PeriodMonth
from .periods import add_months, label

# The plan's year: baselines apply from its start, targets at their target date.
PLAN_START = date(2010, 4, 1)
ANNUAL_UNITS = ("rate_per_1000", "count")


@dataclass
class Goal:
    """What an indicator aims at for one locality: from the definition, or, for a target written as a
    change ("reduce by 1%"), from the baseline period's own value in the data."""

    baseline: Optional[float]
    target: Optional[float]
    note: str = ""


def goal(indicator, locality_id=None):
    """The indicator's baseline and target (for a relative target, at this locality)."""
    if indicator.target_change_pct is None:
        return Goal(indicator.baseline, indicator.target)
    if indicator.baseline_period_type is None or indicator.baseline_period_start is None:
        return Goal(None, None, "no baseline period set for its relative target")
    row = db.session.execute(select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator.id, IndicatorValue.locality_id == locality_id,
        IndicatorValue.period_type == indicator.baseline_period_type,
        IndicatorValue.period_start == indicator.baseline_period_start)).scalar_one_or_none()
    period = label(indicator.baseline_period_type, indicator.baseline_period_start)
    base = annualised(indicator, row) if row else None
    if base is None:
        return Goal(None, None, f"no data for its baseline period, {period}")
    change = indicator.target_change_pct
    return Goal(base, base * (1 + change / 100),
                f"{abs(change):g}% {'below' if change < 0 else 'above'} {period} ({base:.2f})")


def trajectory(indicator, period_end, aim=None):
    """Where the indicator should be by the end of a period: a straight line from the baseline at the
    plan's start to the target at its date; after the target date, the target itself."""
    aim = aim or goal(indicator)
    if aim.target is None:
        return None
    if aim.baseline is None or indicator.target_date is None:
        return aim.target
    span = (indicator.target_date - PLAN_START).days
    done = min(max((period_end - PLAN_START).days, 0), span) / span if span > 0 else 1
    return aim.baseline + (aim.target - aim.baseline) * done


def annualised(indicator, row):
    """Police rates and counts scaled to a year by the months that have data (x 12 / months), to
    compare with annual targets; hand-entered figures and percentages are taken as they are."""
    if row is None or row.value is None:
        return None
    if (indicator.source == "police_crime" and indicator.unit in ANNUAL_UNITS and row.months
            and not row.entered_by_hand):
        return row.value * 12 / row.months
    return row.value


def rag(indicator, row, aim=None):
    """Green on or ahead of the trajectory, Amber within the indicator's tolerance (percent), Red beyond."""
    expected = trajectory(indicator, _end_date(row.period_end), aim)
    value = annualised(indicator, row)
    if expected is None or value is None:
        return None
    gap = (value - expected) if indicator.polarity == "lower_is_better" else (expected - value)
    if gap <= 0:
        return "Green"
    if gap <= abs(expected) * indicator.amber_tolerance / 100:
        return "Amber"
    return "Red"


def _end_date(month):
    return add_months(month, 1).replace(day=1) if month else None


@dataclass
class ReportRow:
    theme: str
    action: str
    indicator: IndicatorDefinition
    value: Optional[IndicatorValue]
    expected: Optional[float]
    rag: Optional[str]
    aim: Goal
    tasks: ActionTasks = dataclasses.field(default_factory=ActionTasks)  # the action's live and completed tasks

    @property
    def annualised(self):
        return annualised(self.indicator, self.value)

    @property
    def provisional(self):
        """'2 of 3 months' when the period is not complete yet, else None."""
        v = self.value
        return f"{v.months} of {v.length} months" if v is not None and v.provisional else None

    @property
    def hand_entered(self):
        return self.value is not None and self.value.entered_by_hand

    @property
    def proxy(self):
        """What police.uk counts instead of the plan's measure, unless an analyst entered the real one."""
        return self.indicator.proxy_note if self.indicator.proxy_note and not self.hand_entered else ""

    @property
    def marks(self):
        """The qualifiers the report, CSV and chart show beside the RAG."""
        return [m for m in (self.provisional and f"provisional, {self.provisional}", self.proxy and "proxy",
                            self.hand_entered and "entered by hand") if m]


def periods_available(period_type):
    rows = db.session.execute(select(IndicatorValue.period_start, IndicatorValue.period_end)
                              .where(IndicatorValue.period_type == period_type).distinct()
                              .order_by(IndicatorValue.period_start.desc())).all()
    return [(start, end, label(period_type, start, end)) for start, end in rows]


def latest_police_period(period_type):
    """The latest period of this type that has police data (where the PMCG report opens). Read newest
    first from the lookup index, stopping at the first police value (a MAX over the join read every value:
    30 ms at 5 million crime rows' months)."""
    police = select(IndicatorDefinition.id).where(IndicatorDefinition.source == "police_crime")
    return db.session.execute(select(IndicatorValue.period_start).where(
        IndicatorValue.period_type == period_type, IndicatorValue.indicator_id.in_(police), IndicatorValue.months > 0)
        .order_by(IndicatorValue.period_start.desc()).limit(1)).scalar()


def report(frequency, period_start, locality, viewer=None):
    """Each action's indicators for one period and locality, with target, trajectory, RAG and change, and
    (given the ``viewer``) the action's tasks that viewer may see at the locality or below: live now, and
    completed within the period. A fixed number of queries, whatever the number of indicators."""
    period_type = FREQUENCY_PERIODS[frequency]
    values = {v.indicator_id: v for v in db.session.execute(select(IndicatorValue).where(
        IndicatorValue.period_type == period_type, IndicatorValue.period_start == period_start,
        IndicatorValue.locality_id == locality.id)).scalars()}
    plan = current_plan()
    listed = [(theme.name, action, indicator) for theme in (plan.themes if plan else [])
              for action in theme.actions for indicator in action.indicators]
    tasks = tasks_of_actions({action.id for _, action, _ in listed}, locality.id, period_start,
                             add_months(period_start, PERIOD_LENGTHS[period_type]), viewer) if viewer else {}
    listed += [("The portal's own measures", None, indicator) for indicator in
               db.session.execute(select(IndicatorDefinition).where(IndicatorDefinition.action_id.is_(None))
                                  .order_by(IndicatorDefinition.code)).scalars()]
    rows = []
    for theme, action, indicator in listed:
        value, aim = values.get(indicator.id), goal(indicator, locality.id)
        expected = trajectory(indicator, _end_date(value.period_end), aim) if value else None
        rows.append(ReportRow(theme, action.title if action else "Responding to residents", indicator, value,
                              expected, rag(indicator, value, aim) if value else None, aim,
                              tasks.get(action.id if action else None) or ActionTasks()))
    return rows


def trends(aims, locality_id, period_type, limit=24):
    """{indicator id: chart data} for several indicators at once (one query, whatever their number):
    each one's latest ``limit`` values oldest first, annualised, with the trajectory to its ``aims``
    (indicator -> Goal) and which points are provisional (fewer months of data than the period has)."""
    by_indicator = {indicator.id: [] for indicator in aims}
    for row in db.session.execute(select(IndicatorValue).where(
            IndicatorValue.indicator_id.in_(by_indicator), IndicatorValue.locality_id == locality_id,
            IndicatorValue.period_type == period_type).order_by(IndicatorValue.period_start)).scalars():
        by_indicator[row.indicator_id].append(row)
    charts = {}
    for indicator, aim in aims.items():
        rows = by_indicator[indicator.id][-limit:]
        charts[indicator.id] = {"labels": [label(r.period_type, r.period_start, r.period_end) for r in rows],
                                "values": [annualised(indicator, r) for r in rows],
                                "provisional": [r.provisional for r in rows],
                                "trajectory": [trajectory(indicator, _end_date(r.period_end), aim) for r in rows]}
    return charts


def trend(indicator_id, locality_id, period_type, limit=24):
    """One indicator's chart data (see trends)."""
    indicator = db.session.get(IndicatorDefinition, indicator_id)
    return trends({indicator: goal(indicator, locality_id)}, locality_id, period_type, limit)[indicator_id]


def children_of(locality):
    return db.session.execute(select(Locality).where(Locality.parent_id == locality.id, Locality.active)
                              .order_by(Locality.name)).scalars().all()


# ---- hand-entered figures ---------------------------------------------------------------------------------

def accepts_hand_entry(indicator):
    """Figures entered by hand: survey and partner returns, and the real measure behind a police proxy."""
    return indicator.source == "manual" or bool(indicator.proxy_note)


def enter_manual_value(*, by, indicator_id, locality_id, period_type, period_start, value, note=""):
    """Store an analyst's figure (append-only; the latest counts). Flushes; raises PortalError naming the field."""
    indicator = db.session.get(IndicatorDefinition, indicator_id) if indicator_id else None
    if indicator is None or not accepts_hand_entry(indicator):
        raise PortalError("Choose an indicator that is entered by hand", field="indicator")
    if db.session.get(Locality, locality_id) is None:
        raise PortalError("Choose a locality", field="locality")
    if indicator.unit == "percentage" and not 0 <= value <= 100:
        raise PortalError("A percentage must be between 0 and 100", field="value")
    if value < 0:
        raise PortalError("The value cannot be negative", field="value")
    if not _period_exists(period_type, period_start):
        raise PortalError(f"{period_start:%B %Y} does not start a {period_type.replace('_', ' ')}",
                          field="period_start")
    entry = ManualValue(indicator_id=indicator.id, locality_id=locality_id, period_type=period_type,
                        period_start=period_start, value=value, note=note.strip(), entered_by_id=by.id)
    db.session.add(entry)
    db.session.flush()
    return entry


def _period_exists(period_type, period_start):
    from .engine import ensure_calendar

    def known():
        return db.session.execute(select(PeriodMonth).where(PeriodMonth.period_type == period_type,
                                                            PeriodMonth.period_start == period_start).limit(1)).first()
    if known() is None:
        ensure_calendar(add_months(period_start, -12), add_months(period_start, 12))
    return known() is not None


def manual_history(limit=100):
    return db.session.execute(select(ManualValue).options(selectinload(ManualValue.indicator),
                                                          selectinload(ManualValue.entered_by),
                                                          selectinload(ManualValue.locality))
                              .order_by(ManualValue.id.desc()).limit(limit)).scalars().all()


# ---- editing what an indicator aims at ---------------------------------------------------------------

EDITABLE = ("baseline", "target", "target_date", "amber_tolerance", "target_change_pct",
            "baseline_period_type", "baseline_period_start")


def edit_definition(indicator, *, by, reason="", **changes):
    """Change an indicator's baseline, target, target date, tolerance or relative target, keeping one
    IndicatorChange (who, when, old, new) per field that changed. Analysts and admins only. Flushes.
    The rollup and RAG read the definition when they run, so the report uses the new values at once."""
    if by.role not in ("analyst", "admin"):
        raise NotAllowed("Only analysts and admins can change an indicator's targets")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise PortalError(f"{', '.join(sorted(unknown))} cannot be edited here")
    if changes.get("amber_tolerance") is not None and not 0 <= changes["amber_tolerance"] <= 100:
        raise PortalError("The tolerance must be between 0 and 100 percent", field="amber_tolerance")
    period_type, period_start = (changes.get("baseline_period_type", indicator.baseline_period_type),
                                 changes.get("baseline_period_start", indicator.baseline_period_start))
    if changes.get("target_change_pct") is not None and not (period_type and period_start):
        raise PortalError("A relative target needs a baseline period", field="baseline_period_start")
    if period_type and period_start and not _period_exists(period_type, period_start):
        raise PortalError(f"{period_start:%B %Y} does not start a {period_type.replace('_', ' ')}",
                          field="baseline_period_start")
    changed = []
    for field in EDITABLE:
        if field not in changes or changes[field] == getattr(indicator, field):
            continue
        old, new = getattr(indicator, field), changes[field]
        setattr(indicator, field, new)
        changed.append(IndicatorChange(indicator_id=indicator.id, field=field, old=_shown(old), new=_shown(new),
                                       reason=reason.strip(), by_id=by.id))
    db.session.add_all(changed)
    db.session.flush()
    return changed


def _shown(value):
    return "" if value is None else value.isoformat() if isinstance(value, date) else f"{value:g}" \
        if isinstance(value, float) else str(value)
