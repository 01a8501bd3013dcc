"""Residents' answers to "Has this made a difference?" under a published "We did".

One row per browser per concern (``browser_hash``: the SHA-256 of the random id in the browser's signed
cookie, never the cookie itself, nor an address). The comment is private until an officer of the
concern's area approves it (``comment_status``); only approved comments reach a public page.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..concerns.models import Concern
from ..extensions import db
from ..models import utcnow

YES, PARTLY, NO = "yes", "partly", "no"
ANSWERS = {YES: "Yes", PARTLY: "Partly", NO: "No"}
# What counts as "it made a difference" in the portal's indicator (engine.FEEDBACK_SQL): Yes and Partly.
MADE_A_DIFFERENCE = (YES, PARTLY)
COMMENT_MAX = 500  # characters: a short comment, not a complaint form

NONE, PENDING, APPROVED, REJECTED = "", "pending", "approved", "rejected"
COMMENT_STATUS_LABELS = {PENDING: "Waiting for approval", APPROVED: "Approved: shown to residents",
                         REJECTED: "Rejected: never shown"}


class FeedbackAnswer(db.Model):
    __tablename__ = "feedback_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id"))
    browser_hash: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    comment_status: Mapped[str] = mapped_column(String(10), default=NONE)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    moderated_at: Mapped[Optional[datetime]]
    moderated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    # Whether words were removed from the comment (who and when: moderated_by and moderated_at).
    redacted: Mapped[bool] = mapped_column(default=False)

    concern: Mapped[Concern] = relationship()
    moderated_by = relationship("User")

    __table_args__ = (UniqueConstraint("concern_id", "browser_hash", name="uq_feedback_answers_browser"),
                      Index("ix_feedback_answers_concern_id_status", "concern_id", "comment_status"))

    @property
    def answer_label(self):
        return ANSWERS.get(self.answer, self.answer)

    @property
    def comment_status_label(self):
        return COMMENT_STATUS_LABELS.get(self.comment_status, "")
