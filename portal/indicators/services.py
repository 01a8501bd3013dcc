"""Reading indicator values: the PMCG report with trajectory and RAG, trends, manual entries,
and the strategic assessment's change by crime type and vulnerable localities."""
from dataclasses import dataclass
from datetime import date
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..crime.categories import ASB, LABELS
from ..crime.models import CrimeRecord
from ..errors import PortalError
from ..extensions import db
from ..places.models import Locality
from ..plan.models import Action, DeliveryPlan, IndicatorDefinition, Theme
from .models import FREQUENCY_PERIODS, IndicatorValue, ManualValue, PeriodMonth
from .periods import add_months, label

# The plan's year: baselines apply from its start, targets at their target date.
PLAN_START = date(2010, 4, 1)
ANNUAL_UNITS = ("rate_per_1000", "count")


def trajectory(indicator, period_end):
    """Where the indicator should be by the end of a period: a straight line from the baseline at the
    plan's start to the target at its date; after the target date, the target itself."""
    if indicator.target is None:
        return None
    if indicator.baseline is None or indicator.target_date is None:
        return indicator.target
    span = (indicator.target_date - PLAN_START).days
    done = min(max((period_end - PLAN_START).days, 0), span) / span if span > 0 else 1
    return indicator.baseline + (indicator.target - indicator.baseline) * done


def annualised(indicator, row):
    """Rates and counts of shorter periods scaled to a year, to compare with annual targets."""
    if row.value is None:
        return None
    if indicator.unit in ANNUAL_UNITS and row.period_type != "rolling_12" and row.months:
        length = {"month": 1, "quarter": 3, "half_year": 6, "financial_year": 12}[row.period_type]
        return row.value * 12 / length
    return row.value


def rag(indicator, row):
    """Green on or ahead of the trajectory, Amber within the indicator's tolerance (percent), Red beyond."""
    expected = trajectory(indicator, _end_date(row.period_end))
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


def periods_available(period_type):
    rows = db.session.execute(select(IndicatorValue.period_start, IndicatorValue.period_end)
                              .where(IndicatorValue.period_type == period_type).distinct()
                              .order_by(IndicatorValue.period_start.desc())).all()
    return [(start, end, label(period_type, start, end)) for start, end in rows]


def report(frequency, period_start, locality):
    """Each action's indicators for one period and locality, with target, trajectory, RAG and change."""
    period_type = FREQUENCY_PERIODS[frequency]
    values = {v.indicator_id: v for v in db.session.execute(select(IndicatorValue).where(
        IndicatorValue.period_type == period_type, IndicatorValue.period_start == period_start,
        IndicatorValue.locality_id == locality.id)).scalars()}
    plan = db.session.execute(select(DeliveryPlan).options(
        selectinload(DeliveryPlan.themes).selectinload(Theme.actions).selectinload(Action.indicators))
        .order_by(DeliveryPlan.year.desc())).scalars().first()
    rows = []
    for theme in plan.themes if plan else []:
        for action in theme.actions:
            for indicator in action.indicators:
                value = values.get(indicator.id)
                expected = trajectory(indicator, _end_date(value.period_end)) if value else None
                rows.append(ReportRow(theme.name, action.title, indicator, value, expected,
                                      rag(indicator, value) if value else None))
    for indicator in db.session.execute(select(IndicatorDefinition).where(IndicatorDefinition.action_id.is_(None))).scalars():
        value = values.get(indicator.id)
        rows.append(ReportRow("The portal's own measures", "Responding to residents", indicator, value,
                              trajectory(indicator, _end_date(value.period_end)) if value else None,
                              rag(indicator, value) if value else None))
    return rows


def trend(indicator_id, locality_id, period_type, limit=24):
    """The latest values of one indicator, oldest first, with the trajectory for a chart."""
    indicator = db.session.get(IndicatorDefinition, indicator_id)
    rows = db.session.execute(select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator_id, IndicatorValue.locality_id == locality_id,
        IndicatorValue.period_type == period_type).order_by(IndicatorValue.period_start.desc()).limit(limit)).scalars().all()
    rows.reverse()
    return {"labels": [label(r.period_type, r.period_start, r.period_end) for r in rows],
            "values": [annualised(indicator, r) for r in rows],
            "trajectory": [trajectory(indicator, _end_date(r.period_end)) for r in rows]}


def children_of(locality):
    return db.session.execute(select(Locality).where(Locality.parent_id == locality.id, Locality.active)
                              .order_by(Locality.name)).scalars().all()


# ---- hand-entered figures ---------------------------------------------------------------------------------

def enter_manual_value(*, by, indicator_id, locality_id, period_type, period_start, value, note=""):
    indicator = db.session.get(IndicatorDefinition, indicator_id) if indicator_id else None
    if indicator is None or indicator.source != "manual":
        raise PortalError("Choose an indicator that is entered by hand", field="indicator")
    if db.session.get(Locality, locality_id) is None:
        raise PortalError("Choose a locality", field="locality")
    if indicator.unit == "percentage" and not 0 <= value <= 100:
        raise PortalError("A percentage must be between 0 and 100", field="value")
    if value < 0:
        raise PortalError("The value cannot be negative", field="value")
    known = db.session.execute(select(PeriodMonth).where(PeriodMonth.period_type == period_type,
                                                         PeriodMonth.period_start == period_start).limit(1)).first()
    if known is None:
        from .engine import ensure_calendar

        ensure_calendar(add_months(period_start, -12), add_months(period_start, 12))
        known = db.session.execute(select(PeriodMonth).where(PeriodMonth.period_type == period_type,
                                                             PeriodMonth.period_start == period_start).limit(1)).first()
        if known is None:
            raise PortalError(f"{period_start:%B %Y} does not start a {period_type.replace('_', ' ')}",
                              field="period_start")
    entry = ManualValue(indicator_id=indicator.id, locality_id=locality_id, period_type=period_type,
                        period_start=period_start, value=value, note=note.strip(), entered_by_id=by.id)
    db.session.add(entry)
    db.session.commit()
    return entry


def manual_history(limit=100):
    return db.session.execute(select(ManualValue).options(selectinload(ManualValue.indicator),
                                                          selectinload(ManualValue.entered_by),
                                                          selectinload(ManualValue.locality))
                              .order_by(ManualValue.id.desc()).limit(limit)).scalars().all()


# ---- the strategic assessment -------------------------------------------------------------------------

def crime_counts(date_from, date_to, locality_ids=None):
    """{crime_type: count} of recorded crime in the months [date_from, date_to], for wards below the localities."""
    query = select(CrimeRecord.crime_type, func.count()).where(
        CrimeRecord.month >= date_from, CrimeRecord.month <= date_to, CrimeRecord.locality_id.is_not(None))
    if locality_ids is not None:
        query = query.where(CrimeRecord.locality_id.in_(locality_ids))
    return dict(db.session.execute(query.group_by(CrimeRecord.crime_type)).all())


def change_by_type(current, previous):
    """[(label, now, before, change %)] by crime type, all recorded crime (not ASB) first."""
    def pct(now, before):
        return None if not before else 100.0 * (now - before) / before

    crime_now = sum(n for t, n in current.items() if t != ASB)
    crime_before = sum(n for t, n in previous.items() if t != ASB)
    rows = [("All recorded crime", crime_now, crime_before, pct(crime_now, crime_before))]
    for kind in sorted(set(current) | set(previous), key=lambda t: -current.get(t, 0)):
        rows.append((LABELS.get(kind, kind), current.get(kind, 0), previous.get(kind, 0),
                     pct(current.get(kind, 0), previous.get(kind, 0))))
    return rows


def sentence(place, rows, window):
    """The source document's paragraph, computed: 'all recorded crime fell by 10.54%; ...'."""
    def phrase(name, change):
        if change is None:
            return f"{name} has no figures for the year before"
        if abs(change) < 0.005:
            return f"{name} was unchanged"
        return f"{name} {'fell' if change < 0 else 'rose'} by {abs(change):.2f}%"

    head = rows[0]
    movers = sorted((r for r in rows[1:] if r[3] is not None and r[2] >= 10), key=lambda r: r[3])
    parts = [phrase("all recorded crime", head[3])]
    if movers:
        best, worst = movers[0], movers[-1]
        parts.append(phrase(best[0], best[3]))
        if worst is not best and worst[3] > 0:
            parts.append(phrase(worst[0], worst[3]))
    return f"{place}: performance for {window} shows that " + "; ".join(parts) + "."


def vulnerable_localities(date_from, date_to, previous_from, previous_to, level="ward", limit=15):
    """Localities ranked by recorded crime per 1,000 residents (not ASB), with the change on the year before."""
    from ..places.services import descendants_map

    months = max(1, (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1)
    localities = db.session.execute(select(Locality).where(Locality.level == level, Locality.active)).scalars().all()
    below = descendants_map()
    now = _counts_by_locality(date_from, date_to)
    before = _counts_by_locality(previous_from, previous_to)
    ranked = []
    for loc in localities:
        if not loc.population:
            continue
        ids = below.get(loc.id, {loc.id})
        n, b = sum(now.get(i, 0) for i in ids), sum(before.get(i, 0) for i in ids)
        ranked.append({"locality": loc, "crimes": n, "before": b,
                       "rate": n * 1000.0 / loc.population * 12 / months,
                       "change": None if not b else 100.0 * (n - b) / b})
    ranked.sort(key=lambda r: -r["rate"])
    return ranked[:limit] if limit else ranked


def _counts_by_locality(date_from, date_to):
    return dict(db.session.execute(select(CrimeRecord.locality_id, func.count()).where(
        CrimeRecord.month >= date_from, CrimeRecord.month <= date_to, CrimeRecord.locality_id.is_not(None),
        CrimeRecord.crime_type != ASB).group_by(CrimeRecord.locality_id)).all())
