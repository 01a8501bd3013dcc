from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import utcnow
from ..partners.models import Organisation

FREQUENCIES = ("monthly", "quarterly", "bi-annual", "annual")
FREQUENCY_LABELS = {"monthly": "Monthly", "quarterly": "Quarterly", "bi-annual": "Bi-annual", "annual": "Annual"}
UNITS = ("rate_per_1000", "percentage", "count")
UNIT_LABELS = {"rate_per_1000": "Rate per 1,000 residents", "percentage": "Percentage", "count": "Count"}
POLARITIES = ("lower_is_better", "higher_is_better")
SOURCES = ("police_crime", "portal", "manual")
SOURCE_LABELS = {"police_crime": "Police recorded crime (police.uk)", "portal": "This portal's records",
                 "manual": "Entered by hand (survey or partner return)"}


class DeliveryPlan(db.Model):
    __tablename__ = "delivery_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(10), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200), default="")

    themes: Mapped[list["Theme"]] = relationship(back_populates="plan", order_by="Theme.position",
                                                 cascade="all, delete-orphan")


class Theme(db.Model):
    __tablename__ = "plan_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("delivery_plans.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    plan: Mapped[DeliveryPlan] = relationship(back_populates="themes")
    actions: Mapped[list["Action"]] = relationship(back_populates="theme", order_by="Action.position",
                                                   cascade="all, delete-orphan")


class ActionPartner(db.Model):
    __tablename__ = "plan_action_partners"

    action_id: Mapped[int] = mapped_column(ForeignKey("plan_actions.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(12), primary_key=True)  # lead | supporting
    position: Mapped[int] = mapped_column(default=0)

    organisation: Mapped[Organisation] = relationship()


class Action(db.Model):
    __tablename__ = "plan_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("plan_themes.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    title_derived: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(Text, default="")
    monitoring: Mapped[str] = mapped_column(String(200), default="")
    frequency: Mapped[str] = mapped_column(String(12), default="monthly")
    delivery_frameworks: Mapped[list] = mapped_column(db.JSON, default=list)
    ni_codes: Mapped[list] = mapped_column(db.JSON, default=list)

    theme: Mapped[Theme] = relationship(back_populates="actions")
    partner_links: Mapped[list[ActionPartner]] = relationship(cascade="all, delete-orphan",
                                                              order_by=ActionPartner.position)
    indicators: Mapped[list["IndicatorDefinition"]] = relationship(back_populates="action",
                                                                   order_by="IndicatorDefinition.code")

    @property
    def lead_partners(self):
        return [link.organisation for link in self.partner_links if link.role == "lead"]

    @property
    def supporting_partners(self):
        return [link.organisation for link in self.partner_links if link.role == "supporting"]

    @property
    def frequency_label(self):
        return FREQUENCY_LABELS.get(self.frequency, self.frequency)


class IndicatorDefinition(db.Model):
    """How one delivery-plan measure is computed, and what it is aiming for."""

    __tablename__ = "indicator_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[Optional[int]] = mapped_column(ForeignKey("plan_actions.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    ni_code: Mapped[Optional[str]] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    polarity: Mapped[str] = mapped_column(String(20))
    baseline: Mapped[Optional[float]]
    baseline_label: Mapped[Optional[str]] = mapped_column(String(40))
    target: Mapped[Optional[float]]
    target_date: Mapped[Optional[date]]
    frequency: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(20))
    crime_types: Mapped[list] = mapped_column(db.JSON, default=list)
    amber_tolerance: Mapped[float] = mapped_column(default=5.0)
    # A target written as a change ("reduce criminal damage by 1%"): the target is the baseline
    # period's own value moved by this percentage (-1.0), computed from the data.
    target_change_pct: Mapped[Optional[float]]
    baseline_period_type: Mapped[Optional[str]] = mapped_column(String(16))
    baseline_period_start: Mapped[Optional[date]]
    # Where police.uk cannot give the plan's measure: what is counted instead (shown on the report).
    proxy_note: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[Optional[Action]] = relationship(back_populates="indicators")
    changes: Mapped[list["IndicatorChange"]] = relationship(order_by="IndicatorChange.id.desc()",
                                                             cascade="all, delete-orphan")

    @property
    def unit_label(self):
        return UNIT_LABELS.get(self.unit, self.unit)

    @property
    def source_label(self):
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def lower_is_better(self):
        return self.polarity == "lower_is_better"


class IndicatorChange(db.Model):
    """One edit of an indicator's baseline, target, target date or tolerance: who, when, old, new."""

    __tablename__ = "indicator_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator_definitions.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str] = mapped_column(String(100), default="")
    new: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by = relationship("User")
