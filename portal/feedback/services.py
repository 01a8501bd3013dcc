""""Has this made a difference?": residents answer under a published "We did"; officers moderate comments.

Rules, in one place:
- A concern takes answers while it is published with a "We did" residents can read (``answerable``).
- One answer per browser per concern: a browser that answers again *replaces* its answer (and its comment,
  which waits for approval again). The browser is known by a random id in a signed cookie (views.py);
  only its SHA-256 is stored.
- A comment reaches no public page until an officer of the concern's area approves it; an officer may
  remove words from it (``[removed]``) or reject it.

Functions here change the session and flush; the caller commits once.
"""
import hashlib

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..concerns.models import REMOVED, Concern
from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from ..public import services as public
from .models import ANSWERS, APPROVED, COMMENT_MAX, NO, NONE, PARTLY, PENDING, REJECTED, YES, FeedbackAnswer
from .policy import can_moderate


def browser_hash(browser_id):
    return hashlib.sha256(browser_id.encode()).hexdigest()


def answerable(concern_id):
    """The public record (services.public_record) of a published concern residents can answer about (it
    has a "We did" they can read), or None."""
    concern = public.published_concern(concern_id)
    if concern is None:
        return None
    record = public.public_record(concern)
    return record if record["we_did"] else None


def answer_of(concern_id, browser_id):
    """This browser's answer about the concern, or None."""
    if not browser_id:
        return None
    return db.session.execute(select(FeedbackAnswer).where(
        FeedbackAnswer.concern_id == concern_id,
        FeedbackAnswer.browser_hash == browser_hash(browser_id))).scalar_one_or_none()


def record_answer(concern_id, *, browser_id, answer, comment=""):
    """Store a resident's answer (yes, partly or no) and optional comment about a published "We did";
    an earlier answer from the same browser is replaced. Returns (the FeedbackAnswer, whether it replaced
    one). Raises PortalError naming the field for a missing answer or a comment that is too long, and for
    a concern that is not (or no longer) published with a "We did"."""
    if answerable(concern_id) is None:
        raise PortalError("This response is no longer published, so it cannot take answers", field="answer")
    if answer not in ANSWERS:
        raise PortalError("Choose whether this has made a difference: yes, partly or no", field="answer")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise PortalError(f"Your comment must be {COMMENT_MAX} characters or fewer (it has {len(comment)})",
                          field="comment")
    row = answer_of(concern_id, browser_id)
    replaced = row is not None
    if row is None:
        row = FeedbackAnswer(concern_id=concern_id, browser_hash=browser_hash(browser_id))
        db.session.add(row)
    row.answer, row.comment, row.answered_at = answer, comment, utcnow()
    row.comment_status = PENDING if comment else NONE
    row.moderated_at, row.moderated_by_id, row.redacted = None, None, False
    db.session.flush()
    return row, replaced


# ---- reading ----------------------------------------------------------------------------------------

def counts(concern_ids):
    """{concern id: {"yes": n, "partly": n, "no": n, "total": n}} for these concerns, in one query."""
    result = {cid: {YES: 0, PARTLY: 0, NO: 0, "total": 0} for cid in concern_ids}
    if not result:
        return result
    rows = db.session.execute(select(FeedbackAnswer.concern_id, FeedbackAnswer.answer, func.count())
                              .where(FeedbackAnswer.concern_id.in_(list(result)))
                              .group_by(FeedbackAnswer.concern_id, FeedbackAnswer.answer)).all()
    for cid, answer, n in rows:
        result[cid][answer] = n
        result[cid]["total"] += n
    return result


def approved_comments(concern_ids):
    """{concern id: [comment text, ...]} of the approved comments only (oldest first): what residents may
    read. One query, whatever the number of concerns (a list page)."""
    result = {cid: [] for cid in concern_ids}
    if not result:
        return result
    rows = db.session.execute(select(FeedbackAnswer.concern_id, FeedbackAnswer.answer, FeedbackAnswer.comment)
                              .where(FeedbackAnswer.concern_id.in_(list(result)),
                                     FeedbackAnswer.comment_status == APPROVED)
                              .order_by(FeedbackAnswer.answered_at, FeedbackAnswer.id)).all()
    for cid, answer, comment in rows:
        result[cid].append({"answer": ANSWERS[answer], "comment": comment})
    return result


def for_officers(concern_ids):
    """What the concern and task pages show staff: per concern, the counts and every comment (pending
    first), as {concern id: {"counts": ..., "comments": [FeedbackAnswer, ...]}}. Two queries."""
    ids = list(concern_ids)
    tally = counts(ids)
    comments = {cid: [] for cid in ids}
    if ids:
        pending_first = case((FeedbackAnswer.comment_status == PENDING, 0), else_=1)
        rows = db.session.execute(select(FeedbackAnswer).where(
            FeedbackAnswer.concern_id.in_(ids), FeedbackAnswer.comment_status != NONE)
            .options(selectinload(FeedbackAnswer.moderated_by))
            .order_by(pending_first, FeedbackAnswer.answered_at.desc(), FeedbackAnswer.id.desc())).scalars()
        for row in rows:
            comments[row.concern_id].append(row)
    return {cid: {"counts": tally[cid], "comments": comments[cid]} for cid in ids}


def data_version_part(sender=None):
    """Receiver of public.signals.data_version: changes whenever an approved comment appears, changes or
    goes, so the public pages' shared bodies are rebuilt."""
    row = db.session.execute(select(func.count(FeedbackAnswer.id), func.max(FeedbackAnswer.moderated_at))
                             .where(FeedbackAnswer.moderated_at.is_not(None))).one()
    return f"fb{row[0]}-{row[1].isoformat() if row[1] else 0}"


# ---- moderating ---------------------------------------------------------------------------------------

def _moderatable(answer, by):
    if not can_moderate(by, answer):
        raise NotAllowed("Only an officer of this concern's area or an administrator can moderate its comments")
    if answer.comment_status == NONE:
        raise PortalError("This answer has no comment to moderate")


def approve(answer, *, by):
    """Show the comment under the concern on the public pages (within PUBLIC_CACHE_SECONDS). Raises
    NotAllowed unless ``by`` covers the concern's area."""
    _moderatable(answer, by)
    answer.comment_status, answer.moderated_at, answer.moderated_by_id = APPROVED, utcnow(), by.id
    db.session.flush()
    return answer


def reject(answer, *, by):
    """Never show the comment (and take it off the public pages if it was approved). Raises NotAllowed
    unless ``by`` covers the concern's area."""
    _moderatable(answer, by)
    answer.comment_status, answer.moderated_at, answer.moderated_by_id = REJECTED, utcnow(), by.id
    db.session.flush()
    return answer


def redact_comment(answer, *, by, text):
    """Replace every occurrence of ``text`` in the comment with "[removed]" (an approved comment stays
    approved, with the words gone). Raises NotAllowed unless ``by`` covers the concern's area, PortalError
    naming the field if ``text`` does not appear in the comment exactly."""
    _moderatable(answer, by)
    if not text or not text.strip():
        raise PortalError("Enter the words to remove, exactly as they appear", field="text")
    if text not in answer.comment:
        raise PortalError(f"“{text}” does not appear in the comment as written. Copy the words exactly, with "
                          "the same capitals, spaces and punctuation", field="text")
    answer.comment = answer.comment.replace(text, REMOVED)
    answer.redacted, answer.moderated_at, answer.moderated_by_id = True, utcnow(), by.id
    db.session.flush()
    return answer


def scrub_redacted_text(concern: Concern, *, text, by):
    """Receiver of concerns.signals.text_redacted: words redacted from a concern leave its residents'
    comments too (a resident may have quoted them)."""
    rows = db.session.execute(select(FeedbackAnswer).where(
        FeedbackAnswer.concern_id == concern.id, FeedbackAnswer.comment.contains(text, autoescape=True))).scalars()
    for row in rows:
        row.comment, row.redacted = row.comment.replace(text, REMOVED), True
        if row.moderated_at is not None:
            row.moderated_at = utcnow()  # a change the public pages must show
    return True



# ---- residents say it is not fixed ------------------------------------------------------------------

# A published "We did" residents say has not fixed it: at least this many answers, more than half "No".
NOT_FIXED_MIN_ANSWERS = 3


def not_fixed_counts(last_back):
    """A subquery (concern_id, no, answers) of the published concerns residents say are not fixed: at
    least NOT_FIXED_MIN_ANSWERS answers and more than half of them "No", counting answers given since it
    was (last) published and after the time in ``last_back`` (a subquery of concern_id, at: when an agenda
    it came back on was built, from tasking; no row counts every answer)."""
    no = func.sum(case((FeedbackAnswer.answer == NO, 1), else_=0))
    answers = func.count(FeedbackAnswer.id)
    return (select(FeedbackAnswer.concern_id.label("concern_id"), no.label("no"), answers.label("answers"))
            .join(Concern, Concern.id == FeedbackAnswer.concern_id)
            .outerjoin(last_back, last_back.c.concern_id == FeedbackAnswer.concern_id)
            .where(Concern.published.is_(True),
                   (Concern.published_at.is_(None)) | (FeedbackAnswer.answered_at >= Concern.published_at),
                   last_back.c.at.is_(None) | (FeedbackAnswer.answered_at > last_back.c.at))
            .group_by(FeedbackAnswer.concern_id)
            .having(answers >= NOT_FIXED_MIN_ANSWERS, no * 2 > answers)
            .subquery("not_fixed"))
