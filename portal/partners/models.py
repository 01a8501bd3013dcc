from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

KINDS = ("police", "council", "fire", "health", "probation", "housing", "youth",
         "voluntary", "justice", "partnership", "other")


class Organisation(db.Model):
    """A partner agency: leads or supports actions and problem-solving tasks."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    short_name: Mapped[str] = mapped_column(String(60), default="")
    kind: Mapped[str] = mapped_column(String(20), default="other")
    aliases: Mapped[list] = mapped_column(db.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self):
        return f"<Organisation {self.name}>"
