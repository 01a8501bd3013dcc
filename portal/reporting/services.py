"""Residents raising a concern online, and telling them what became of it.

A resident's concern is created through the concerns feature (concerns.services.raise_from_resident), so it
passes the same checks and gets the same history as one an officer logs. Where it is comes from a place
name the resident typed or a point they chose on the map; the point is kept as the concern's private exact
point. The optional email address lives in OnlineReport until the outcome is sent (models.py).

Functions here change the session and flush; the caller (the view) commits once.
"""
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from shapely.geometry import Point, shape
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from ..concerns import services as concerns
from ..concerns.models import ACCEPTED, CLOSED, NO_FURTHER_ACTION, RESPONDED
from ..errors import PortalError
from ..extensions import db
from ..following import updates
from ..models import utcnow
from ..notifications.services import notify_address, portal_link
from ..places.models import Locality
from ..places.services import find_by_name
from ..public import services as public
from .models import OnlineReport

# The places a resident's concern can be in: the register's own levels (never a whole area or the county).
PLACE_LEVELS = ("neighbourhood", "ward")
MAX_PLACE_MATCHES = 12
# The changes a resident is told about, and what each message says happened.
TOLD = {
    ACCEPTED: "The partnership has accepted it and will decide what to do at its next tasking meeting.",
    RESPONDED: "The partnership has responded to it.",
    CLOSED: "The partnership has closed it.",
    NO_FURTHER_ACTION: "The partnership has closed it: it decided that no further action is needed.",
}
SUBJECTS = {ACCEPTED: "accepted", RESPONDED: "responded to", CLOSED: "closed", NO_FURTHER_ACTION: "closed"}
# The last message: the address is cleared once it is queued (a concern closed with no further action can be
# accepted again later, but the resident was told the outcome and the address is not kept "just in case").
FINAL = (CLOSED, NO_FURTHER_ACTION)


class AmbiguousPlace(PortalError):
    """More than one place matches what the resident typed: ``matches`` are the places to choose from."""

    def __init__(self, message, matches):
        super().__init__(message, field="place_key")
        self.matches = matches


@dataclass
class ResidentReport:
    """What a resident sent on the form (already checked for type and length by the form)."""

    category_id: Optional[int]
    you_said: str
    place: str = ""
    place_key: str = ""  # the place they picked when their text matched several
    lat: Optional[float] = None
    lon: Optional[float] = None
    email: str = ""
    honeypot: str = ""


def places_named(text):
    """The neighbourhoods and wards whose name or alias contains ``text``, an exact name first."""
    needle = (text or "").strip().lower()
    found = [loc for loc in find_by_name(needle) if loc.level in PLACE_LEVELS]
    return sorted(found, key=lambda loc: (loc.name.lower() != needle, loc.name))


def place_label(locality):
    """How a place is offered to a resident: a ward with its town, so "Castle" is not ambiguous."""
    if locality.level == "ward" and locality.parent:
        return f"{locality.name} ({locality.parent.name})"
    return locality.name


def place_at(lat, lon):
    """The ward whose boundary holds the point, or None outside every ward (outside Shropshire)."""
    point = Point(lon, lat)
    wards = db.session.execute(select(Locality).where(Locality.level == "ward", Locality.active)
                               .options(undefer(Locality.boundary))).scalars()
    return next((ward for ward in wards if ward.boundary and shape(ward.boundary).contains(point)), None)


def resolve_place(report: ResidentReport):
    """The locality of a report: the place picked from several matches, else the ward at the map point, else
    the one place the typed name matches (or the one whose name it is exactly). PortalError naming the field
    otherwise; AmbiguousPlace with the matches when the resident must choose."""
    if report.place_key:
        locality = db.session.execute(select(Locality).where(Locality.key == report.place_key)).scalar_one_or_none()
        if locality is None or locality.level not in PLACE_LEVELS or not locality.active:
            raise PortalError("Choose one of the places listed", field="place_key")
        return locality
    if (report.lat is None) != (report.lon is None):
        raise PortalError("Choose the point on the map again: it needs both a latitude and a longitude", field="lat")
    if report.lat is not None:
        ward = place_at(report.lat, report.lon)
        if ward is None:
            raise PortalError("That point is outside Shropshire's wards: choose a point in Shropshire, or type "
                              "the name of the town or village instead", field="lat")
        return ward
    text = (report.place or "").strip()
    if not text:
        raise PortalError("Enter the town, village or ward where it is happening", field="place")
    matches = places_named(text)
    if not matches:
        raise PortalError(f"No town, village or ward in Shropshire matches “{text}”: check the spelling, or try "
                          "the nearest town", field="place")
    if len(matches) == 1:
        return matches[0]
    # "Wem" is a neighbourhood and a ward inside it: the name means one place, the ward the more exact.
    exact = [loc for loc in matches if loc.name.lower() == text.lower()]
    exact = [loc for loc in exact if not any(other.parent_id == loc.id for other in exact)]
    if len(exact) == 1:
        return exact[0]
    if len(matches) > MAX_PLACE_MATCHES:
        raise AmbiguousPlace(f"{len(matches)} places match “{text}”: choose one of the first {MAX_PLACE_MATCHES}, "
                             "or type more of the name", matches[:MAX_PLACE_MATCHES])
    raise AmbiguousPlace(f"More than one place matches “{text}”: choose one", matches)


def raise_concern(report: ResidentReport):
    """Create a "new" concern from a resident's report, with its OnlineReport when an email address was given.
    All or nothing: any refusal (PortalError naming the field) leaves nothing behind once the caller rolls
    back. Flushes; returns the concern."""
    if report.honeypot.strip():
        # A field people never see (it is hidden, and its label says to leave it empty): filled in, it is a bot.
        raise PortalError("Leave the field “Leave this empty” empty, then send the form again", field="website")
    locality = resolve_place(report)
    concern = concerns.raise_from_resident(concerns.ConcernInput(
        category_id=report.category_id, you_said=report.you_said, locality_id=locality.id,
        lat=report.lat, lon=report.lon))
    email = (report.email or "").strip()
    if email:
        db.session.add(OnlineReport(concern=concern, email=email, token=secrets.token_urlsafe(32)))
    db.session.flush()
    return concern


# ---- telling the resident --------------------------------------------------------------------------

def report_of(concern_id):
    return db.session.execute(select(OnlineReport).where(OnlineReport.concern_id == concern_id)).scalar_one_or_none()


def public_link(concern):
    """Where a published concern is on the public site: its item on its place's page, on the page of that list
    it is on (the link followers' emails and feeds give, following.updates.item_link); None while it is not
    public."""
    if public.published_concern(concern.id) is None:
        return None
    return updates.item_link(public.public_record(concern))


def outcome_message(concern, to_status, token, final):
    """(subject, body) of a message to the resident: what happened, where to read it, and what we keep."""
    lines = [f"You raised a concern online about {concern.category.name.capitalize()} in {concern.locality.name} "
             f"on {concern.raised_on.day} {concern.raised_on:%B %Y}.", "", TOLD[to_status]]
    if to_status in (RESPONDED, CLOSED) and concern.we_did:
        lines += ["", f"What was done: {concern.we_did}"]
    if to_status == NO_FURTHER_ACTION and concern.reason_residents_read:
        lines += ["", f"Why: {concern.reason_residents_read}"]
    link = public_link(concern)
    lines += ["", f"Read it on the public site: {link}" if link else
              "When the partnership publishes it, it will appear on the public 'You said, we did' pages for "
              f"{concern.locality.name}: {portal_link('public.locality', key=concern.locality.key)}"]
    if final:
        lines += ["", "This is the last message about this concern: we have now deleted your email address."]
    else:
        lines += ["", "We keep your email address only to tell you the outcome, and delete it when the concern is "
                      "closed. To stop these messages and delete it now: "
                      + portal_link("reporting.stop_messages", token=token)]
    return f"Your concern about {concern.category.name.capitalize()}: {SUBJECTS[to_status]}", "\n".join(lines)


def tell_reporter(concern, *, event, by=None):
    """Receiver of concerns.signals.status_changed: queue a message to the resident who raised the concern
    online, when it was accepted, responded to or closed; on closing, clear their address. Once per change
    (the history entry's id is the message's dedupe key)."""
    to_status = event.to_status
    if concern.source != "resident_online" or to_status not in TOLD:
        return
    report = report_of(concern.id)
    if report is None or not report.email:
        return
    final = to_status in FINAL
    subject, body = outcome_message(concern, to_status, report.token, final)
    notify_address(report.email, subject, body, kind="concern_outcome",
                   dedupe_key=f"concern-outcome:{concern.id}:{event.id}",
                   unsubscribe_url=None if final else portal_link("reporting.stop_messages", token=report.token))
    if final:
        clear_email(report)


def clear_email(report):
    report.email, report.email_cleared_at = "", utcnow()
    db.session.flush()


def stop_messages(token):
    """The resident's "stop these emails" link: their address is deleted at once. Returns whether there was
    one to delete; PortalError for a token that matches nothing (a mistyped link)."""
    report = db.session.execute(select(OnlineReport).where(OnlineReport.token == (token or "")[:64])) \
        .scalar_one_or_none()
    if report is None:
        raise PortalError("This link is not one we sent, or it is incomplete: copy the whole link from the email")
    had = bool(report.email)
    if had:
        clear_email(report)
    return had


def forget_old_addresses(days, now=None):
    """Delete the addresses of reports older than ``days`` whose concern is still not closed (nightly, beat):
    an address is never kept longer than that, even for a concern that stays open. Returns how many.
    Flushes; the caller commits."""
    now = now or utcnow()
    cleared = db.session.execute(
        update(OnlineReport).where(OnlineReport.email != "", OnlineReport.created_at < now - timedelta(days=days))
        .values(email="", email_cleared_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return cleared
