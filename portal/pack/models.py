"""The monthly PMCG pack: the analysts' commentary on each indicator, and the packs as issued."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ..models import utcnow


class PackCommentary(db.Model):
    """An analyst's note on one indicator at one locality for one period. Append-only: an edit is a new
    row, so the latest row is the note and the earlier ones are its history (who wrote what, when)."""

    __tablename__ = "pack_commentary"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator_definitions.id"))
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"))
    period_type: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator = relationship("IndicatorDefinition")
    locality = relationship("Locality")
    written_by = relationship("User")

    __table_args__ = (Index("ix_pack_commentary_period", "period_type", "period_start", "indicator_id"),)


class IssuedPack(db.Model):
    """One month's pack as issued: the PDF exactly as it was rendered then, never rendered again.
    Issuing freezes that month's commentary."""

    __tablename__ = "issued_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(unique=True)  # one issue per month
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Deferred: lists of packs never load the documents themselves.
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    notified_at: Mapped[Optional[datetime]]  # when the distribution list's messages were queued

    issued_by = relationship("User")
