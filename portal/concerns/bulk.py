"""Bulk actions on concerns: publishing a PACT meeting's reviewed concerns, and accepting or closing a
selection from the register.

Each is one unit of work made of the single-item services (services.change_status, services.publish),
so every concern is checked by the same policy and gets the same history entries as if it had been done
on its own page. The first concern refused refuses the whole batch, with a message naming it; the
caller's rollback (the one error handler, or the view) leaves every concern as it was. Flushes; the
caller commits.
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import PortalError
from ..extensions import db
from ..places.models import Locality
from . import services
from .models import ACCEPTED, NO_FURTHER_ACTION, RESPONDED, STATUS_LABELS, Concern

BULK_STATUSES = (ACCEPTED, NO_FURTHER_ACTION)


def named(concern):
    """How a message names a concern: its number, category and place."""
    return f"Concern {concern.id} ({concern.category.name.capitalize()}, {concern.locality.name})"


def _each(concerns, action, shared_fields=()):
    """Run ``action`` on each concern in turn; a refusal about one concern is raised again naming it (a
    refusal about an input the batch shares, such as its one reason, is raised as it is)."""
    for concern in concerns:
        try:
            action(concern)
        except PortalError as error:
            if error.field in shared_fields:
                raise
            raise type(error)(f"{named(concern)}: {error.message} Nothing was changed.",
                              field="concerns") from error
    return concerns


def _concerns(ids):
    """The concerns with these ids, in the order given (repeats once); PortalError naming an id that
    does not exist."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise PortalError("Select at least one concern", field="concerns")
    found = {c.id: c for c in db.session.execute(
        select(Concern).where(Concern.id.in_(ids)).options(
            selectinload(Concern.category), selectinload(Concern.locality).selectinload(Locality.parent))).scalars()}
    missing = [i for i in ids if i not in found]
    if missing:
        raise PortalError(f"Concern {missing[0]} does not exist. Nothing was changed.", field="concerns")
    return [found[i] for i in ids]


def is_reviewed(concern):
    """Responded with a "We did", not yet published and never withdrawn: what "publish all reviewed"
    publishes (a withdrawn concern goes back only through its own "Publish to residents again")."""
    return (concern.status == RESPONDED and bool((concern.we_did or "").strip()) and not concern.published
            and not concern.withdrawn)


def reviewed_of_meeting(meeting):
    """A PACT meeting's concerns that wait to be published, in the meeting's order."""
    return [c for c in meeting.concerns if is_reviewed(c)]


def publish_reviewed(meeting, *, by, concern_ids):
    """Publish the meeting's reviewed concerns the page listed (``concern_ids``): each must be one of the
    meeting's, still waiting, and one ``by`` may publish (services.publish checks). All or nothing;
    returns the concerns published."""
    if not concern_ids:
        raise PortalError("None of this meeting's concerns waits to be published", field="concerns")
    concerns = _concerns(concern_ids)

    def publish(concern):
        if concern.pact_meeting_id != meeting.id:
            raise PortalError("it is not one of this meeting's concerns.")
        if not is_reviewed(concern):
            raise PortalError("it is already published." if concern.published else
                              f"it is '{concern.status_label}', not responded with a 'We did'.")
        services.publish(concern, by=by)

    return _each(concerns, publish)


def change_statuses(concern_ids, to_status, *, by, reason=""):
    """Accept the selected concerns for tasking, or close them as no further action with one reason for
    all; each moves through services.change_status (its policy, its lifecycle, its history entry). All or
    nothing; returns the concerns changed."""
    if to_status not in BULK_STATUSES:
        raise PortalError("Choose to accept the concerns for tasking or to close them as no further action",
                          field="action")
    if to_status == NO_FURTHER_ACTION and not reason.strip():
        raise PortalError("Give the reason for no further action: residents will read it", field="reason")
    concerns = _concerns(concern_ids)
    return _each(concerns, lambda concern: services.change_status(
        concern, to_status, by=by, reason=reason,
        public_reason=reason if to_status == NO_FURTHER_ACTION else None),
                 shared_fields=("reason",))


def outcome(to_status, count):
    """The flash message after a bulk change."""
    return f"{count} concern{'s' if count != 1 else ''} now '{STATUS_LABELS[to_status]}'."
