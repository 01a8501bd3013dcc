"""Residents who asked for email updates about places: the email address and what it follows, nothing else.

Double opt-in: a sign-up makes an unconfirmed row (``confirmed_at`` empty) that receives nothing but
its confirmation link, and the daily digest job deletes it once that link has expired. Links carry a
signed id, never the address (services.py), so an address does not reach a server's access log.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import utcnow
from ..places.models import Locality

followed_places = Table(
    "followed_places",
    db.metadata,
    Column("follower_id", ForeignKey("followers.id", ondelete="CASCADE"), primary_key=True),
    Column("locality_id", ForeignKey("localities.id"), primary_key=True, index=True),
)


class Follower(db.Model):
    """One address and the places (a ward, neighbourhood, area or the county) it follows once confirmed.
    A place asked for before confirmation is added by its confirmation link, not at sign-up."""

    __tablename__ = "followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[Optional[datetime]]
    # The end of the window the last digest covered: the next one tells only what came after it.
    last_digest_at: Mapped[Optional[datetime]]

    places: Mapped[list[Locality]] = relationship(secondary=followed_places, order_by=Locality.name)
