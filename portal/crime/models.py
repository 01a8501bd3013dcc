"""Police recorded crime from police.uk, tied to the partnership's localities."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, Text  # noqa: F401
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class CrimeImport(db.Model):
    """One imported file: what it held, what matched, and how the import ended."""

    __tablename__ = "crime_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    force: Mapped[str] = mapped_column(String(80), default="")
    month: Mapped[Optional[date]]
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done | rejected
    rows: Mapped[int] = mapped_column(default=0)
    matched: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[int] = mapped_column(default=0)
    replaced: Mapped[int] = mapped_column(default=0)
    # Data-quality notes, never a refusal: police.uk sometimes gives two records one Crime ID.
    repeated_ids: Mapped[int] = mapped_column(default=0)  # Crime IDs that appear on more than one row
    quality_note: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    task_id: Mapped[str] = mapped_column(String(60), default="")
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[Optional[datetime]]


class CrimeUpload(db.Model):
    """Files an analyst uploaded, followed from the upload page to the worker's last word on them.

    Committed before the job is enqueued, so a job whose worker is lost still has a row that says so.
    """

    __tablename__ = "crime_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    paths: Mapped[list] = mapped_column(db.JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | running | done | failed
    task_id: Mapped[str] = mapped_column(String(60))  # the job now in charge (a retry is a new job)
    attempts: Mapped[int] = mapped_column(default=0)  # deliveries to a worker
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[Optional[dict]] = mapped_column(db.JSON)
    by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[Optional[datetime]]
    finished_at: Mapped[Optional[datetime]]


class CrimeRecord(db.Model):
    """One police.uk street-level row. ``locality_id`` is the ward it falls in (None: outside Shropshire)."""

    __tablename__ = "crime_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]
    force: Mapped[str] = mapped_column(String(80))
    crime_id: Mapped[Optional[str]] = mapped_column(String(80))  # ASB rows have none
    crime_type: Mapped[str] = mapped_column(String(40))
    lsoa_code: Mapped[Optional[str]] = mapped_column(String(12))
    lat: Mapped[Optional[float]]
    lon: Mapped[Optional[float]]
    # A fact table loaded millions of rows at a time: no foreign keys (a check per row would halve the
    # import's speed); the importer sets both from rows it has just read, and localities are never deleted.
    locality_id: Mapped[Optional[int]]
    import_id: Mapped[Optional[int]]

    # A month's rows arrive together, so a BRIN index on month finds them when the month is imported
    # again, at little cost per imported row; figures read CrimeMonthlyCount, not the rows.
    __table_args__ = (Index("ix_crime_records_month", "month", postgresql_using="brin",
                            postgresql_with={"autosummarize": "on"}),)


class CrimeMonthlyCount(db.Model):
    """Recorded crime by month, ward and police.uk type: what every figure reads instead of the rows.

    Written by the import in the same transaction as the rows it counts (a month's file replaces its
    counts with its rows), so the figures can never disagree with the stored rows, and pages that
    show crime cost the same at 20 thousand rows as at 5 million.
    """

    __tablename__ = "crime_monthly_counts"

    month: Mapped[date] = mapped_column(primary_key=True)
    locality_id: Mapped[int] = mapped_column(primary_key=True)  # a ward; rows outside Shropshire are not counted
    crime_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    force: Mapped[str] = mapped_column(String(80), primary_key=True)
    n: Mapped[int]
