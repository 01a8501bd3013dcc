"""Bronze tasking: meetings that decide what to do, and the SARA problem-solving tasks partners carry out."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..concerns.models import Concern
from ..extensions import db
from ..models import TimestampMixin, utcnow
from ..partners.models import Organisation
from ..places.models import Locality
from ..plan.models import Action

SCANNING, ANALYSIS, RESPONSE, ASSESSMENT = "scanning", "analysis", "response", "assessment"
STAGES = (SCANNING, ANALYSIS, RESPONSE, ASSESSMENT)
STAGE_LABELS = {SCANNING: "Scanning", ANALYSIS: "Analysis", RESPONSE: "Response", ASSESSMENT: "Assessment"}

OPEN, IN_PROGRESS, BLOCKED, COMPLETED, CLOSED, ESCALATED = (
    "open", "in_progress", "blocked", "completed", "closed", "escalated")
TASK_STATUSES = (OPEN, IN_PROGRESS, BLOCKED, COMPLETED, CLOSED, ESCALATED)
TASK_STATUS_LABELS = {OPEN: "Open", IN_PROGRESS: "In progress", BLOCKED: "Blocked", COMPLETED: "Completed",
                      CLOSED: "Closed", ESCALATED: "Escalated to Silver"}
ACTIVE_STATUSES = (OPEN, IN_PROGRESS, BLOCKED)
PRIORITIES = (("high", "High"), ("medium", "Medium"), ("low", "Low"))

# Agenda items, in the order the chair takes them.
AGENDA_KINDS = {
    "pact_priority": "PACT priority",
    "repeat_concern": "Repeat concern",
    "residents_not_fixed": "Residents say not fixed",
    "new_concern": "New or accepted concern",
    "overdue_task": "Overdue task",
    "due_task": "Task due before the next meeting",
    "crime_rise": "Rise in recorded crime",
    "high_harm_no_task": "High harm, no task",
}
DECISIONS = {
    "create_task": "Create a task",
    "link_task": "Link to an existing task",
    "no_further_action": "No further action",
    "escalate_silver": "Escalate to Silver (area or county)",
    "noted": "Noted",
}

task_concerns = Table(
    "task_concerns", db.metadata,
    Column("task_id", ForeignKey("tasks.id"), primary_key=True),
    Column("concern_id", ForeignKey("concerns.id"), primary_key=True, index=True),
)
task_supporting_organisations = Table(
    "task_supporting_organisations", db.metadata,
    Column("task_id", ForeignKey("tasks.id"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True, index=True),
)
tasking_meeting_attendees = Table(
    "tasking_meeting_attendees", db.metadata,
    Column("meeting_id", ForeignKey("tasking_meetings.id"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True),
)


class TaskingMeeting(db.Model):
    """An area's Bronze tasking meeting. Once closed its record never changes; corrections are appended."""

    __tablename__ = "tasking_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)
    held_on: Mapped[date] = mapped_column(index=True)
    next_meeting_on: Mapped[Optional[date]]
    chair_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    closed_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[Locality] = relationship()
    chair = relationship("User")
    attendees: Mapped[list[Organisation]] = relationship(secondary=tasking_meeting_attendees,
                                                         order_by=Organisation.name)
    items: Mapped[list["AgendaItem"]] = relationship(back_populates="meeting", order_by="AgendaItem.position",
                                                     cascade="all, delete-orphan")
    corrections: Mapped[list["MeetingCorrection"]] = relationship(order_by="MeetingCorrection.id",
                                                                  cascade="all, delete-orphan")

    @property
    def is_closed(self):
        return self.status == "closed"


class AgendaItem(db.Model):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("tasking_meetings.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)  # what the chair read out, kept as it was
    concern_id: Mapped[Optional[int]] = mapped_column(ForeignKey("concerns.id"), index=True)
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"), index=True)
    decision: Mapped[Optional[str]] = mapped_column(String(20))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]]
    resulting_task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id"))

    meeting: Mapped[TaskingMeeting] = relationship(back_populates="items")
    concern: Mapped[Optional[Concern]] = relationship()
    task: Mapped[Optional["Task"]] = relationship(foreign_keys=[task_id])
    resulting_task: Mapped[Optional["Task"]] = relationship(foreign_keys=[resulting_task_id])
    decided_by = relationship("User")

    @property
    def kind_label(self):
        return AGENDA_KINDS.get(self.kind, self.kind)

    @property
    def decision_label(self):
        return DECISIONS.get(self.decision, "")


class MeetingCorrection(db.Model):
    __tablename__ = "meeting_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("tasking_meetings.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by = relationship("User")


class Task(TimestampMixin, db.Model):
    """A SARA problem-solving task for partners. Never deleted: closed, with a reason."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)
    locality_id: Mapped[Optional[int]] = mapped_column(ForeignKey("localities.id"))
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(index=True)
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    stage: Mapped[str] = mapped_column(String(12), default=SCANNING)
    victim: Mapped[str] = mapped_column(Text, default="")  # the problem analysis triangle
    offender: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=OPEN, index=True)
    blocked_reason: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    we_did: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[Optional[date]]  # for "tasks completed by their due date"
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[Optional[datetime]]
    published: Mapped[bool] = mapped_column(default=False)
    # The task's "We did" as an officer last published it: an edit after that waits for a new review, and
    # residents keep reading the concerns' published texts meanwhile.
    published_we_did: Mapped[str] = mapped_column(Text, default="")
    meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasking_meetings.id"))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    version_id: Mapped[int] = mapped_column(default=1)
    # The delivery-plan action the task serves (tasks raised before tasks named one have none).
    action_id: Mapped[Optional[int]] = mapped_column(ForeignKey("plan_actions.id"), index=True)

    area: Mapped[Locality] = relationship(foreign_keys=[area_id])
    locality: Mapped[Optional[Locality]] = relationship(foreign_keys=[locality_id])
    lead_organisation: Mapped[Organisation] = relationship()
    supporting_organisations: Mapped[list[Organisation]] = relationship(
        secondary=task_supporting_organisations, order_by=Organisation.name)
    owner = relationship("User", foreign_keys=[owner_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    meeting: Mapped[Optional[TaskingMeeting]] = relationship(foreign_keys=[meeting_id])
    concerns: Mapped[list[Concern]] = relationship(secondary=task_concerns, order_by=Concern.id)
    action: Mapped[Optional[Action]] = relationship()
    updates: Mapped[list["TaskUpdate"]] = relationship(back_populates="task", order_by="TaskUpdate.id",
                                                       cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version_id}
    # The task list reads each group a page at a time in these orders (portal/tasking/task_list.py).
    __table_args__ = (
        Index("ix_tasks_status_due_on_id", "status", "due_on", "id"),
        Index("ix_tasks_review_queue", "status", "published", "completed_on", "id"),
        # The task export's order, so its first rows stream at once instead of after a sort of them all (0022).
        Index("ix_tasks_due_on_id", "due_on", "id"),
        # A partner's list: the tasks its organisation leads, group by group in order (0022).
        Index("ix_tasks_lead_status_due_on_id", "lead_organisation_id", "status", "due_on", "id"),
        # The newest change, which tells the report its portal figures are stale, read from the index.
        Index("ix_tasks_updated_at", "updated_at"),
    )

    @property
    def status_label(self):
        return TASK_STATUS_LABELS.get(self.status, self.status)

    @property
    def stage_label(self):
        return STAGE_LABELS.get(self.stage, self.stage)

    @property
    def organisation_ids(self):
        return {self.lead_organisation_id} | {o.id for o in self.supporting_organisations}

    def is_overdue(self, today=None):
        return self.status in ACTIVE_STATUSES and self.due_on < (today or date.today())

    @property
    def we_did_awaiting_review(self):
        """The "We did" was edited after it was published and an officer has not published the new one."""
        return self.published and self.we_did != self.published_we_did


class TaskUpdate(db.Model):
    """One dated entry in a task's log: nothing about a task changes without one."""

    __tablename__ = "task_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    from_stage: Mapped[Optional[str]] = mapped_column(String(12))
    to_stage: Mapped[Optional[str]] = mapped_column(String(12))
    from_status: Mapped[Optional[str]] = mapped_column(String(12))
    to_status: Mapped[Optional[str]] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(default=1)  # the task's version this entry produced
    # A change of one of the task's details (due_on, owner, lead_organisation, supporting, priority, we_did):
    # the values as people read them at the time (dates as YYYY-MM-DD); the reason, if any, is ``text``.
    field: Mapped[Optional[str]] = mapped_column(String(20))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship(back_populates="updates")
    by = relationship("User")
    organisation: Mapped[Optional[Organisation]] = relationship()


class TaskFile(db.Model):
    """A photo or document attached to a task update (portal/tasking/attachments.py). Never deleted:
    withdrawn with a reason, it stays on disk and in the log but is no longer served."""

    __tablename__ = "task_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("task_updates.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))  # as the person's device named it, for people to read
    content_type: Mapped[str] = mapped_column(String(120))  # from the file's bytes, never from its name
    size: Mapped[int]
    # Where it is kept, relative to UPLOAD_DIR: a random name, so nothing about it comes from the request.
    stored_as: Mapped[str] = mapped_column(String(200), unique=True)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[Optional[datetime]]
    withdrawn_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship()
    update: Mapped[TaskUpdate] = relationship(backref="files")
    by = relationship("User", foreign_keys=[by_id])
    organisation: Mapped[Optional[Organisation]] = relationship()
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])

    @property
    def is_image(self):
        return self.content_type.startswith("image/")

    @property
    def size_label(self):
        return f"{self.size / 1024 / 1024:.1f} MB" if self.size >= 100 * 1024 else f"{max(1, self.size // 1024)} KB"
