"""Concern lifecycle. Services flush, never commit: the caller commits once."""
from datetime import date

from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from .models import NO_FURTHER_ACTION, RESPONDED, STATUS_LABELS, TRANSITIONS, Concern, ConcernEvent


def can_change(user, concern):
    """Officers of the concern's area, and admins, may change a concern."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    if not user.is_officer:
        return False
    area = concern.locality.area
    return area is not None and area.id in user.area_ids


def record_event(concern, kind, *, by, from_status=None, to_status=None, detail=""):
    event = ConcernEvent(concern=concern, kind=kind, by_id=getattr(by, "id", None),
                         from_status=from_status, to_status=to_status, detail=detail)
    db.session.add(event)
    return event


def change_status(concern: Concern, to_status, *, by, reason="", we_did=None, responded_on=None, check=True):
    """Move a concern along its lifecycle and record it in the audit trail.

    Raises NotAllowed if ``by`` may not change it, PortalError if the move is
    not in TRANSITIONS, or a reason/"We did" text it needs is missing.
    ``check=False`` is for system actions (publishing a task's response).
    """
    if check and not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can change it.")
    if to_status not in TRANSITIONS.get(concern.status, set()):
        raise PortalError(f"A concern that is '{STATUS_LABELS[concern.status]}' cannot become "
                          f"'{STATUS_LABELS.get(to_status, to_status)}'.", field="status")
    if to_status == NO_FURTHER_ACTION and not (reason or "").strip():
        raise PortalError("Give the reason for no further action.", field="reason")
    if to_status == RESPONDED:
        text = (we_did if we_did is not None else concern.we_did or "").strip()
        if not text:
            raise PortalError("Enter what was done (the public 'We did' text).", field="we_did")
        concern.we_did = text
        concern.responded_on = responded_on or date.today()
    previous = concern.status
    concern.status = to_status
    if reason:
        concern.status_reason = reason.strip()
    record_event(concern, "status", by=by, from_status=previous, to_status=to_status, detail=reason or "")
    db.session.flush()
    return concern


def publish(concern, *, by, check=True):
    """Make a responded concern's public texts visible to residents."""
    if check and not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can publish it.")
    concern.published = True
    concern.published_at = utcnow()
    record_event(concern, "published", by=by, detail="Published to residents")
    db.session.flush()
    return concern
