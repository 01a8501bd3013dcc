"""Concerns residents raise (PACT meetings, survey, referrals) and their lifecycle.

Public fields: ``you_said``, ``we_did``, their dates, category and locality.
Everything else (internal notes, exact point, street, who logged it) is
private and must never reach a public page or API.
"""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import REMOVED, TimestampMixin, utcnow  # noqa: F401  (REMOVED: imported from here too)
from ..partners.models import Organisation
from ..places.models import Locality

GROUPS = ("Vehicle", "Youth", "ASB", "Environment", "Crime", "Drugs & alcohol")
SOURCES = ("pact", "survey", "partner_referral", "resident_contact", "resident_online")
SOURCE_LABELS = {"pact": "PACT meeting", "survey": "Community Survey",
                 "partner_referral": "Partner referral", "resident_contact": "Resident contact",
                 "resident_online": "Resident online"}
# Sources only a resident's own form creates (portal/reporting): an officer never logs one by hand.
RESIDENT_SOURCES = ("resident_online",)

NEW, ACCEPTED, IN_PROGRESS, RESPONDED, CLOSED, NO_FURTHER_ACTION, ESCALATED = (
    "new", "accepted", "in_progress", "responded", "closed", "no_further_action", "escalated")
STATUSES = (NEW, ACCEPTED, IN_PROGRESS, RESPONDED, CLOSED, NO_FURTHER_ACTION, ESCALATED)
STATUS_LABELS = {NEW: "New", ACCEPTED: "Accepted for tasking", IN_PROGRESS: "Action in progress",
                 RESPONDED: "Responded", CLOSED: "Closed", NO_FURTHER_ACTION: "No further action",
                 ESCALATED: "Escalated to the county (Silver) group"}
OPEN_STATUSES = (NEW, ACCEPTED, IN_PROGRESS)
# Outcomes residents are told the reason for (Concern.public_reason), as they are told the "We did".
REASONED_STATUSES = (NO_FURTHER_ACTION, ESCALATED)
# What residents read when no officer has written the reason yet (a decision at a tasking meeting).
STANDARD_PUBLIC_REASONS = {
    NO_FURTHER_ACTION: "The partnership looked into this and decided that no further action is needed.",
    ESCALATED: "This was passed to the county (Silver) tasking group, which can bring in more partners.",
}
# Which status may follow which: the lifecycle in one table.
TRANSITIONS = {
    NEW: {ACCEPTED, IN_PROGRESS, RESPONDED, NO_FURTHER_ACTION, ESCALATED},
    ACCEPTED: {IN_PROGRESS, RESPONDED, NO_FURTHER_ACTION, ESCALATED},
    IN_PROGRESS: {RESPONDED, NO_FURTHER_ACTION, ESCALATED},
    RESPONDED: {CLOSED, IN_PROGRESS, NO_FURTHER_ACTION},
    CLOSED: set(),
    NO_FURTHER_ACTION: {ACCEPTED},
    ESCALATED: {IN_PROGRESS, RESPONDED, NO_FURTHER_ACTION},
}

# What an officer may correct after a concern is logged (services.edit_concern), and how history names it.
EDITABLE_FIELDS = {"category_id": "Category", "locality_id": "Where", "street": "Street or landmark",
                   "lat": "Latitude", "lon": "Longitude", "you_said": "You said", "internal_notes": "Internal notes",
                   "raised_count": "Residents raising it", "public_reason": "Reason residents read"}
# Their history is shown only to those who may see the fields themselves (policy.can_see_internal_notes).
PRIVATE_FIELDS = ("street", "lat", "lon", "internal_notes")
# The public texts a redaction may remove part of.
REDACTABLE_FIELDS = {"you_said": "You said", "we_did": "We did", "public_reason": "Reason residents read"}

pact_meeting_partners = Table(
    "pact_meeting_partners",
    db.metadata,
    Column("pact_meeting_id", ForeignKey("pact_meetings.id"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True),
)


class ConcernCategory(db.Model):
    __tablename__ = "concern_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(160), unique=True)
    retired: Mapped[bool] = mapped_column(default=False)

    def __repr__(self):
        return f"<ConcernCategory {self.name}>"


class PactMeeting(TimestampMixin, db.Model):
    __tablename__ = "pact_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)
    held_on: Mapped[date] = mapped_column(index=True)
    venue: Mapped[str] = mapped_column(String(200), default="")
    attendance: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")  # internal
    is_demo: Mapped[bool] = mapped_column(default=False)
    next_meeting_on: Mapped[Optional[date]]
    next_meeting_venue: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    locality: Mapped[Locality] = relationship()
    partners: Mapped[list[Organisation]] = relationship(secondary=pact_meeting_partners,
                                                        order_by=Organisation.name)
    concerns: Mapped[list["Concern"]] = relationship(back_populates="pact_meeting", order_by="Concern.id")


class Concern(TimestampMixin, db.Model):
    __tablename__ = "concerns"

    id: Mapped[int] = mapped_column(primary_key=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("concern_categories.id"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="pact")
    pact_meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("pact_meetings.id"), index=True)
    raised_on: Mapped[date] = mapped_column(index=True)
    you_said: Mapped[str] = mapped_column(Text)  # public
    internal_notes: Mapped[str] = mapped_column(Text, default="")  # private
    street: Mapped[str] = mapped_column(String(200), default="")  # private
    lat: Mapped[Optional[float]]  # private: exact point, generalised before publishing
    lon: Mapped[Optional[float]]
    raised_count: Mapped[int] = mapped_column(default=1)
    # A repeat concern is linked to the open one it repeats (whose count it raised).
    repeat_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("concerns.id"), index=True)
    is_priority: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=NEW, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    we_did: Mapped[str] = mapped_column(Text, default="")  # public once published
    # Why no further action, or why it went to the county (Silver) group: written for residents.
    public_reason: Mapped[str] = mapped_column(Text, default="")  # public once published
    decided_on: Mapped[Optional[date]]  # when it reached one of REASONED_STATUSES
    # Who took it off public view, so nothing else republishes it by accident: "concern" (its own page:
    # only "Publish to residents again" puts it back), "task" (its task's "We did" was withdrawn: the
    # task's next review puts it back), "" when it was never withdrawn or has been published again.
    withdrawn: Mapped[str] = mapped_column(String(10), default="")
    responded_on: Mapped[Optional[date]]
    published: Mapped[bool] = mapped_column(default=False, index=True)
    published_at: Mapped[Optional[datetime]]
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    version_id: Mapped[int] = mapped_column(default=1)

    locality: Mapped[Locality] = relationship()
    category: Mapped[ConcernCategory] = relationship()
    pact_meeting: Mapped[Optional[PactMeeting]] = relationship(back_populates="concerns")
    events: Mapped[list["ConcernEvent"]] = relationship(back_populates="concern", order_by="ConcernEvent.id",
                                                        cascade="all, delete-orphan")

    repeat_of: Mapped[Optional["Concern"]] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version_id}
    # Newest first, the order of the register, the public list and the CSVs (migration 0014); the newest
    # change, which dates the public pages' data version and the report's portal figures (0022).
    __table_args__ = (Index("ix_concerns_raised_on_id", "raised_on", "id"),
                      Index("ix_concerns_updated_at", "updated_at"))

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def source_label(self):
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def needs_public_reason(self):
        return self.status in REASONED_STATUSES

    @property
    def reason_residents_read(self):
        """The public reason of a REASONED_STATUSES concern (the standard sentence until one is written)."""
        if not self.needs_public_reason:
            return ""
        return self.public_reason or STANDARD_PUBLIC_REASONS[self.status]


class ConcernEvent(db.Model):
    """Audit trail: who changed what on a concern, and when."""

    __tablename__ = "concern_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    # created, status, repeat, edited, published, withdrawn, redacted
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[Optional[str]] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    # An edit: the field (a key of EDITABLE_FIELDS, or REDACTABLE_FIELDS for a redaction) and its values.
    field: Mapped[Optional[str]] = mapped_column(String(30))
    old_value: Mapped[Optional[str]] = mapped_column(Text)
    new_value: Mapped[Optional[str]] = mapped_column(Text)

    concern: Mapped[Concern] = relationship(back_populates="events")
    by = relationship("User")

    @property
    def field_label(self):
        return EDITABLE_FIELDS.get(self.field) or REDACTABLE_FIELDS.get(self.field) or self.field or ""

    @property
    def is_private(self):
        """An edit of a private field: its values are shown only to those who may see the field."""
        return self.field in PRIVATE_FIELDS


class SurveyResult(db.Model):
    """One ranked topic of a Community Survey for an area and period."""

    __tablename__ = "survey_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey: Mapped[str] = mapped_column(String(160))
    period: Mapped[str] = mapped_column(String(10), index=True)  # 2009 or 2009-Q1
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int]
    percentage: Mapped[Optional[float]]
    category_id: Mapped[Optional[int]] = mapped_column(ForeignKey("concern_categories.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    locality: Mapped[Locality] = relationship()
    category: Mapped[Optional[ConcernCategory]] = relationship()

    __table_args__ = (db.UniqueConstraint("survey", "period", "locality_id", "topic", name="uq_survey_results_row"),)


class SurveyTopic(db.Model):
    """Which concern category a survey topic corresponds to (for side-by-side reports)."""

    __tablename__ = "survey_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("concern_categories.id"))

    category: Mapped[ConcernCategory] = relationship()


class CategoryCrimeType(db.Model):
    """A concern category is seen in recorded crime of this police.uk type (seed/category_crime_types.csv).
    A category with no row has no crime type: police data cannot see it (speeding, litter)."""

    __tablename__ = "category_crime_types"

    category_id: Mapped[int] = mapped_column(ForeignKey("concern_categories.id"), primary_key=True)
    crime_type: Mapped[str] = mapped_column(String(40), primary_key=True)
