"""Who to tell about a concern a resident raised online: their email address, kept only until the outcome.

The address is private, as internal notes are: it never reaches a public page, API or CSV, nor the staff
pages (an officer has no need of it: the portal writes to the resident). It is cleared when the concern is
closed (the last message says so) or when the resident asks for no more messages.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..concerns.models import Concern
from ..extensions import db
from ..models import utcnow


class OnlineReport(db.Model):
    __tablename__ = "online_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id"), unique=True)
    # Empty once the outcome was sent or the resident stopped the messages (or when none was given).
    email: Mapped[str] = mapped_column(String(254), default="")
    # The secret in the "stop these emails" link: only the person the messages went to has it.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    email_cleared_at: Mapped[Optional[datetime]]

    concern: Mapped[Concern] = relationship()
