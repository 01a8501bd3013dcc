"""Shared column helpers for every feature's models."""
from datetime import datetime, timezone

from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

# What redacted words become, in a record and in every copy other features made of it.
REMOVED = "[removed]"


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


__all__ = ["db", "utcnow", "TimestampMixin", "REMOVED"]
