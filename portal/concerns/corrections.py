"""Putting a concern right after it is saved: editing it, withdrawing it from residents, redacting part of
its public text. Each is one entry (or one per field) in the concern's history, and each checks that the
caller may change the concern (policy.py), whatever the entry point.

Functions here change the session and flush; the caller commits once.
"""
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select

from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..places.models import Locality
from .models import EDITABLE_FIELDS, REDACTABLE_FIELDS, REMOVED, Concern, ConcernCategory, ConcernEvent
from .policy import can_change, may_log_in
from .services import record_event
from .signals import text_redacted


@dataclass
class ConcernEdit:
    """The corrected values of a concern, as the edit form sends them (every field, changed or not)."""

    category_id: int
    locality_id: int
    you_said: str
    street: str = ""
    lat: Optional[float] = None
    lon: Optional[float] = None
    internal_notes: str = ""
    raised_count: int = 1
    public_reason: Optional[str] = None  # only for the statuses residents are told the reason of


def _shown(concern, name):
    """A field's value as history shows it: names for ids, text for everything else."""
    value = getattr(concern, name)
    if name == "category_id":
        return concern.category.name
    if name == "locality_id":
        return concern.locality.name
    return "" if value is None else str(value)


def edit_concern(concern: Concern, edit: ConcernEdit, *, by):
    """Apply an officer's corrections; each changed field is one "edited" entry in the history (who, when,
    the field, the old and new value). Returns the names of the fields changed.

    Raises NotAllowed unless ``by`` is an officer of the concern's area or an admin, and, when the concern
    moves, also of the new locality's area; PortalError naming the field for a bad value or no change."""
    if not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can edit it.")
    if not (edit.you_said or "").strip():
        raise PortalError("Enter what residents said", field="you_said")
    if (edit.lat is None) != (edit.lon is None):
        raise PortalError("Give both the latitude and the longitude, or neither", field="lat")
    if edit.locality_id != concern.locality_id:
        locality = db.session.get(Locality, edit.locality_id) if edit.locality_id else None
        if locality is None or locality.level in ("county", "area"):
            raise PortalError("Choose a neighbourhood, town, village or ward (not a whole area)", field="locality")
        if not may_log_in(by, locality):
            raise NotAllowed(f"You can move a concern only to places in your own areas, not to {locality.name}",
                             field="locality")
    if edit.category_id != concern.category_id:
        category = db.session.get(ConcernCategory, edit.category_id) if edit.category_id else None
        if category is None or category.retired:
            raise PortalError("Choose a category from the list", field="category")
    values = {"category_id": edit.category_id, "locality_id": edit.locality_id, "you_said": edit.you_said.strip(),
              "street": (edit.street or "").strip(), "lat": edit.lat, "lon": edit.lon,
              "internal_notes": (edit.internal_notes or "").strip(), "raised_count": edit.raised_count}
    if edit.public_reason is not None and concern.needs_public_reason:
        if not edit.public_reason.strip():
            raise PortalError("Give the reason residents will read", field="public_reason")
        values["public_reason"] = edit.public_reason.strip()
    changed = [name for name, value in values.items() if getattr(concern, name) != value]
    if not changed:
        raise PortalError("Nothing was changed: correct a field, or go back to the concern")
    for name in EDITABLE_FIELDS:  # the history in the form's order
        if name not in changed:
            continue
        old = _shown(concern, name)
        setattr(concern, name, values[name])
        if name in ("category_id", "locality_id"):
            db.session.flush()  # so the new category's or locality's name is what history shows
            db.session.expire(concern, ["category", "locality"])
        record_event(concern, "edited", by=by, field=name, old_value=old, new_value=_shown(concern, name))
    db.session.flush()
    return changed


def withdraw(concern: Concern, *, by, reason, through="concern"):
    """Take a published concern off every public page, feed and API (within PUBLIC_CACHE_SECONDS: the public
    data version changes with it); the history says who and why. ``publish`` puts it back.
    Raises NotAllowed unless ``by`` may change the concern, PortalError without a reason or if not published."""
    if not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can withdraw it.")
    if not (reason or "").strip():
        raise PortalError("Give the reason for withdrawing it from public view", field="reason")
    if not concern.published:
        raise PortalError("This concern is not published, so there is nothing to withdraw", field="reason")
    concern.published, concern.published_at, concern.withdrawn = False, None, through
    record_event(concern, "withdrawn", by=by, detail=reason.strip())
    db.session.flush()
    return concern


def redact(concern: Concern, *, by, field, text):
    """Replace every occurrence of ``text`` in a public text of the concern ("You said" or "We did") with
    "[removed]", and in every copy of it: the concern's own history (repeat, edit and status entries),
    and, through the ``text_redacted`` signal, what higher features copied (agenda items, tasks, their logs
    and notifications). The history records who redacted which field and when, never what was removed.

    Raises NotAllowed unless ``by`` may change the concern, PortalError if the field is not a public text
    or ``text`` does not occur in it exactly."""
    if not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can redact it.")
    if field not in REDACTABLE_FIELDS:
        raise PortalError("Choose the text to redact from", field="field")
    if not text or not text.strip():
        raise PortalError("Enter the words to remove, exactly as they appear", field="text")
    if text not in (getattr(concern, field) or ""):
        raise PortalError(f"“{text}” does not appear in “{REDACTABLE_FIELDS[field]}” as written. Copy the words "
                          "exactly, with the same capitals, spaces and punctuation", field="text")
    scrub(concern, text)
    record_event(concern, "redacted", by=by, field=field,
                 detail=f"Part of “{REDACTABLE_FIELDS[field]}” was replaced with {REMOVED}")
    text_redacted.send(concern, text=text, by=by)
    db.session.flush()
    return concern


def scrub(concern: Concern, text):
    """Remove ``text`` from the concern's public texts, its reasons and every entry of its history.
    (Internal notes and the street are the officer's own record, not copies of a public text.)"""
    for name in ("you_said", "we_did", "public_reason", "status_reason"):
        value = getattr(concern, name) or ""
        if text in value:
            setattr(concern, name, value.replace(text, REMOVED))
    events = db.session.execute(select(ConcernEvent).where(ConcernEvent.concern_id == concern.id)).scalars()
    for event in events:
        for name in ("detail", "old_value", "new_value"):
            value = getattr(event, name)
            if value and text in value:
                setattr(event, name, value.replace(text, REMOVED))


def redact_copy(concern: Concern, *, by, text, field):
    """A concern that holds a copy of another's redacted text (a sibling answered by the same task): scrubbed
    the same way, with its own history entry. Raises NotAllowed unless ``by`` may change it."""
    if not can_change(by, concern):
        raise NotAllowed(f"Concern {concern.id} holds a copy of this text and you may not change it: ask an "
                         "officer of its area to redact it")
    scrub(concern, text)
    record_event(concern, "redacted", by=by, field=field,
                 detail=f"Part of “{REDACTABLE_FIELDS[field]}” was replaced with {REMOVED} (a copy of "
                        "another concern's text)")
