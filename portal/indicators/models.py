"""Indicator values per locality and period, the calendar they roll up over, and hand-entered figures."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import utcnow

PERIOD_TYPES = ("month", "quarter", "half_year", "financial_year", "rolling_12")
PERIOD_LABELS = {"month": "Month", "quarter": "Quarter", "half_year": "Half year",
                 "financial_year": "Financial year", "rolling_12": "12 months to"}
# The delivery plan's reporting frequencies and the periods they report on.
PERIOD_LENGTHS = {"month": 1, "quarter": 3, "half_year": 6, "financial_year": 12, "rolling_12": 12}
FREQUENCY_PERIODS = {"monthly": "month", "quarterly": "quarter", "bi-annual": "half_year", "annual": "financial_year"}


class IndicatorValue(db.Model):
    """One indicator's figure for one locality and period (written only by the rollup)."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator_definitions.id"))
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"))
    period_type: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date]
    period_end: Mapped[date]  # first day of the period's last month
    year_before: Mapped[date]  # period_start of the same period a year earlier
    numerator: Mapped[Optional[float]]
    denominator: Mapped[Optional[float]]
    value: Mapped[Optional[float]]
    months: Mapped[int] = mapped_column(default=0)  # months of the period with data
    previous_value: Mapped[Optional[float]]  # the same period a year earlier
    previous_months: Mapped[Optional[int]]  # ... and how many of its months had data
    entered_by_hand: Mapped[bool] = mapped_column(default=False)  # an analyst's figure, over any computed one
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator = relationship("IndicatorDefinition")
    locality = relationship("Locality")

    __table_args__ = (
        UniqueConstraint("indicator_id", "locality_id", "period_type", "period_start", name="uq_indicator_values_key"),
        Index("ix_indicator_values_lookup", "period_type", "period_start", "locality_id"),
    )

    @property
    def length(self):
        """Months in the period."""
        return PERIOD_LENGTHS[self.period_type]

    @property
    def provisional(self):
        """Computed from fewer months than the period has: the figure may still move."""
        return not self.entered_by_hand and self.months < self.length

    @property
    def change_pct(self):
        """Change on the same period a year earlier. Police counts and rates are compared month for month
        (both sides per month of data), so a year-earlier quarter with three months is not compared with
        two; shares are compared as they are."""
        if self.value is None or not self.previous_value:
            return None
        now, before = self.value, self.previous_value
        # Only police counts and rates grow with the months of data; a share (percentage) does not.
        counted = self.indicator.source == "police_crime" and self.indicator.unit in ("rate_per_1000", "count")
        if counted and not self.entered_by_hand and self.months and self.previous_months:
            now, before = now / self.months, before / self.previous_months
        return 100.0 * (now - before) / before


class PeriodMonth(db.Model):
    """The calendar: which months make up each reporting period (so periods roll up in SQL)."""

    __tablename__ = "period_months"

    period_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True, index=True)
    period_end: Mapped[date]
    year_before: Mapped[date]


class IndicatorCrimeType(db.Model):
    """Which police.uk categories an indicator counts (rebuilt from the definitions at each rollup)."""

    __tablename__ = "indicator_crime_types"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator_definitions.id"), primary_key=True)
    crime_type: Mapped[str] = mapped_column(String(40), primary_key=True)


class ManualValue(db.Model):
    """A figure entered by hand (survey and partner returns). Append-only: the latest entry counts,
    and every entry stays as the audit trail of who entered what."""

    __tablename__ = "manual_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator_definitions.id"), index=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"))
    period_type: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date]
    value: Mapped[float]
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator = relationship("IndicatorDefinition")
    locality = relationship("Locality")
    entered_by = relationship("User")


class RollupRun(db.Model):
    """When each source's rollup last finished, so the report can tell stale figures without a beat."""

    __tablename__ = "rollup_runs"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    finished_at: Mapped[datetime]  # UTC, like the records' updated_at it is compared with
    on_day: Mapped[date]  # the server's date then: it decides what work was due
