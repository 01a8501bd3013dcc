"""Each task's own choice of what counts as its evidence (the categories' defaults are
concerns.models.CategoryCrimeType)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow

DEFAULT_MONTHS = 3
MAX_MONTHS = 12


class TaskEvidence(db.Model):
    """A task's choice of what counts as its evidence: the crime types (None: its concerns' categories'
    defaults) and how many months before and after its response are compared."""

    __tablename__ = "task_evidence"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    crime_types: Mapped[Optional[list]] = mapped_column(db.JSON)
    months: Mapped[int] = mapped_column(default=DEFAULT_MONTHS)
    changed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
