from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class OutboxMessage(db.Model):
    """Every notification, sent or not: with no SMTP server they wait here for an admin to read.

    ``dedupe_key`` makes reminders idempotent: one per task per day, one digest per person per week.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_email: Mapped[str] = mapped_column(String(254))
    to_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]]
    error: Mapped[str] = mapped_column(Text, default="")
    # Messages to residents carry their one-click unsubscribe link (sent as the List-Unsubscribe header).
    unsubscribe_url: Mapped[Optional[str]] = mapped_column(String(500))
