"""Concerns: recording them (PACT meetings, other sources), their lifecycle, the register, Table 1.

Every function here changes the session and flushes; the caller (a view, a CLI command, a task)
commits once, and rolls back on a refusal, so nothing is half-saved. Who may do what is in policy.py.
"""
from dataclasses import dataclass
from datetime import date
from typing import Optional

from flask import g
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from ..paging import Order, seek_page
from ..partners.models import Organisation
from ..places.models import Locality, descendant_ids
from ..places.services import hold_localities
from .models import (
    ESCALATED,
    NEW,
    NO_FURTHER_ACTION,
    OPEN_STATUSES,
    REASONED_STATUSES,
    RESIDENT_SOURCES,
    RESPONDED,
    SOURCE_LABELS,
    SOURCES,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    Concern,
    ConcernCategory,
    ConcernEvent,
    PactMeeting,
)
from .policy import can_change, may_log_in
from .signals import status_changed


def record_event(concern, kind, *, by, from_status=None, to_status=None, detail="", field=None, old_value=None,
                 new_value=None):
    event = ConcernEvent(concern=concern, kind=kind, by_id=getattr(by, "id", None),
                         from_status=from_status, to_status=to_status, detail=detail, field=field,
                         old_value=old_value, new_value=new_value)
    db.session.add(event)
    return event


MISSING_PUBLIC_REASON = {
    NO_FURTHER_ACTION: "Give the reason for no further action that residents will read.",
    ESCALATED: "Give the reason for passing it to the county (Silver) group that residents will read.",
}


def change_status(concern: Concern, to_status, *, by, reason="", we_did=None, responded_on=None,
                  public_reason=None):
    """Move a concern along its lifecycle and record it in the audit trail.

    ``reason`` is internal; ``public_reason`` is what residents read for "no further action" and
    "escalated" (REASONED_STATUSES). A caller that asks for it (the concern's status form: a text,
    possibly empty) must give one; a tasking decision passes None and residents read the standard
    sentence for the status until an officer writes one (services.edit_concern).

    Raises NotAllowed if ``by`` may not change it (always checked: tasking decisions and task
    reviews change concerns too), PortalError if the move is not in TRANSITIONS, or a
    reason/"We did" text it needs is missing.
    """
    if not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can change it.")
    if to_status not in TRANSITIONS.get(concern.status, set()):
        raise PortalError(f"A concern that is '{STATUS_LABELS[concern.status]}' cannot become "
                          f"'{STATUS_LABELS.get(to_status, to_status)}'.", field="status")
    if to_status in REASONED_STATUSES:
        if public_reason is not None and not public_reason.strip():
            raise PortalError(MISSING_PUBLIC_REASON[to_status], field="public_reason")
        if public_reason is None and to_status == NO_FURTHER_ACTION and not (reason or "").strip():
            raise PortalError("Give the reason for no further action.", field="reason")
        concern.public_reason = (public_reason or "").strip()
        concern.decided_on = date.today()
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
    event = record_event(concern, "status", by=by, from_status=previous, to_status=to_status, detail=reason or "")
    db.session.flush()
    status_changed.send(concern, event=event, by=by)
    return concern


def publish(concern, *, by):
    """Make a concern's public texts visible to residents (again, after a withdrawal). Raises NotAllowed
    if ``by`` may not, PortalError if it is already published."""
    if not can_change(by, concern):
        raise NotAllowed("Only an officer of this concern's area or an administrator can publish it.")
    if concern.published:
        raise PortalError("This concern is already published.")
    again = any(e.kind == "withdrawn" for e in concern.events)
    concern.published, concern.published_at, concern.withdrawn = True, utcnow(), ""
    record_event(concern, "published", by=by, detail="Published to residents again" if again
                 else "Published to residents")
    db.session.flush()
    return concern


# ---- recording concerns ------------------------------------------------------------------------

@dataclass
class ConcernInput:
    """One concern as entered on a form or read from a file (not yet saved)."""

    category_id: int
    you_said: str
    locality_id: int
    internal_notes: str = ""
    street: str = ""
    lat: Optional[float] = None
    lon: Optional[float] = None
    raised_count: int = 1
    is_priority: bool = False
    repeat_of_id: Optional[int] = None  # link to this open concern instead of creating one
    row: int = 0  # position on the form, for messages


MAX_PRIORITIES = 3


def open_repeat_candidates(pairs):
    """{(locality_id, category_id): the oldest open concern} for the given pairs, in one query."""
    pairs = {p for p in pairs if all(p)}
    if not pairs:
        return {}
    localities = {locality_id for locality_id, _ in pairs}
    rows = db.session.execute(
        select(Concern).where(Concern.status.in_(OPEN_STATUSES), Concern.locality_id.in_(localities),
                              Concern.repeat_of_id.is_(None)).order_by(Concern.raised_on, Concern.id)
    ).scalars()
    found = {}
    for concern in rows:
        key = (concern.locality_id, concern.category_id)
        if key in pairs:
            found.setdefault(key, concern)
    return found


def _check_locality(user, locality_id, field):
    locality = db.session.get(Locality, locality_id) if locality_id else None
    if locality is None or locality.level in ("county", "area"):
        raise PortalError("Choose a neighbourhood, town, village or ward (not a whole area)", field=field)
    if not may_log_in(user, locality):
        raise NotAllowed(f"You can log concerns only in your own areas, not in {locality.name}", field=field)
    return locality


def _save_concern(item: ConcernInput, *, by, source, raised_on, meeting=None):
    """Create the concern, or raise the count of the open one it repeats. Flushes."""
    if item.repeat_of_id:
        original = db.session.get(Concern, item.repeat_of_id)
        field = f"concerns-{item.row}-repeat" if meeting else "repeat"
        if original is None or not original.is_open:
            raise PortalError("The concern to link to is no longer open; record this one as new", field=field)
        # The id comes from the form: it must be the open concern the form offered, one this user may change.
        if not can_change(by, original):
            raise NotAllowed("You can add to open concerns only in your own areas; record this one as new",
                             field=field)
        if (original.locality_id, original.category_id) != (item.locality_id, item.category_id):
            raise PortalError("That open concern is about another problem or place; record this one as new",
                              field=field)
        # In SQL, not read-modify-write: residents raising it at two meetings saved at once are all counted.
        values = {"raised_count": Concern.raised_count + item.raised_count, "updated_at": utcnow()}
        if item.is_priority:
            values["is_priority"] = True
        db.session.execute(update(Concern).where(Concern.id == original.id).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.expire(original, list(values))
        record_event(original, "repeat", by=by,
                     detail=f"Raised again on {raised_on:%d %b %Y} by {item.raised_count} resident(s)"
                            + (f" at the PACT meeting in {meeting.locality.name}" if meeting else "")
                            + f": {item.you_said}")
        return original
    concern = Concern(
        locality_id=item.locality_id, category_id=item.category_id, source=source, pact_meeting=meeting,
        raised_on=raised_on, you_said=item.you_said.strip(), internal_notes=item.internal_notes.strip(),
        street=item.street.strip(), lat=item.lat, lon=item.lon, raised_count=item.raised_count,
        is_priority=item.is_priority, created_by_id=getattr(by, "id", None), status=NEW)
    db.session.add(concern)
    record_event(concern, "created", by=by, to_status=NEW, detail=f"Logged from {SOURCE_LABELS[source]}")
    return concern


def record_pact_meeting(*, by, locality_id, held_on, venue, attendance, partner_ids, notes, items,
                        next_meeting_on=None, next_meeting_venue=""):
    """Save a PACT meeting and the concerns raised at it. Flushes; the caller commits (or rolls back: all
    or nothing).

    ``items`` are ConcernInput; at most three may be the meeting's agreed priorities.
    """
    locality = _check_locality(by, locality_id, "locality")
    if held_on > date.today():
        raise PortalError("The meeting date cannot be in the future", field="held_on")
    if next_meeting_on and next_meeting_on <= held_on:
        raise PortalError("The next meeting must be after this one", field="next_meeting_on")
    if not items:
        raise PortalError("Add at least one concern raised at the meeting", field="concerns")
    if sum(1 for i in items if i.is_priority) > MAX_PRIORITIES:
        raise PortalError(f"A meeting agrees at most {MAX_PRIORITIES} priorities", field="concerns")
    for item in items:
        _check_locality(by, item.locality_id, f"concerns-{item.row}-locality")
    meeting = PactMeeting(locality=locality, held_on=held_on, venue=venue.strip(), attendance=attendance,
                          notes=notes.strip(), next_meeting_on=next_meeting_on,
                          next_meeting_venue=(next_meeting_venue or "").strip(), created_by_id=by.id)
    meeting.partners = db.session.execute(select(Organisation).where(Organisation.id.in_(partner_ids))).scalars().all()
    db.session.add(meeting)
    for item in items:
        _save_concern(item, by=by, source="pact", raised_on=held_on, meeting=meeting)
    db.session.flush()
    return meeting


def log_concern(item: ConcernInput, *, by, source, raised_on):
    """A concern from a partner referral, a resident contact or the survey. Flushes; the caller commits."""
    if source not in SOURCES or source == "pact" or source in RESIDENT_SOURCES:
        raise PortalError("Choose where the concern came from", field="source")
    _check_locality(by, item.locality_id, "locality")
    if raised_on > date.today():
        raise PortalError("The date raised cannot be in the future", field="raised_on")
    concern = _save_concern(item, by=by, source=source, raised_on=raised_on)
    db.session.flush()
    return concern


def check_resident_choice(category_id, locality_id):
    """The category and place a resident chose on the public form, as (category, locality): a category in
    use, an active neighbourhood or ward. PortalError naming the field otherwise (ids come from a request)."""
    category = db.session.get(ConcernCategory, category_id) if category_id else None
    if category is None or category.retired:
        raise PortalError("Choose what is happening from the list", field="category")
    locality = db.session.get(Locality, locality_id) if locality_id else None
    if locality is None or not locality.active or locality.level not in ("neighbourhood", "ward"):
        raise PortalError("Choose a town, village or ward in Shropshire", field="place")
    return category, locality


def raise_from_resident(item: ConcernInput, *, source="resident_online"):
    """A concern a resident raised themselves (no account): "new", in its place's register, not published,
    never linked to an open concern (the officer decides whether it repeats one). Raises PortalError naming
    the field for a category or place that cannot be chosen. Flushes; the caller commits."""
    if source not in RESIDENT_SOURCES:
        raise PortalError("Concerns from residents come only through their own form", field="source")
    if not (item.you_said or "").strip():
        raise PortalError("Describe what is happening", field="you_said")
    check_resident_choice(item.category_id, item.locality_id)
    item.repeat_of_id, item.is_priority, item.raised_count = None, False, 1
    concern = _save_concern(item, by=None, source=source, raised_on=date.today())
    db.session.flush()
    return concern


# ---- the register -------------------------------------------------------------------------------

@dataclass
class RegisterFilters:
    area_ids: tuple = ()
    locality_id: Optional[int] = None
    category_id: Optional[int] = None
    statuses: tuple = ()
    source: Optional[str] = None
    priority_only: bool = False
    we_did_published: bool = False  # only concerns whose "We did" residents can read now
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    sort: str = "newest"


# Each order ends with the id, so rows that share a date (or count, or status) keep one order between pages.
SORTS = {
    "newest": Order((Concern.raised_on, True, "date"), (Concern.id, True, "int")),
    "oldest": Order((Concern.raised_on, False, "date"), (Concern.id, False, "int")),
    "most_raised": Order((Concern.raised_count, True, "int"), (Concern.raised_on, True, "date"),
                         (Concern.id, True, "int")),
    "status": Order((Concern.status, False, "key"), (Concern.raised_on, True, "date"), (Concern.id, True, "int")),
}


def we_did_published():
    """The condition "its 'We did' is published to residents" (the register's filter, the dashboard's figure)."""
    return Concern.published.is_(True) & (Concern.we_did != "")


def register_query(f: RegisterFilters):
    """The concerns matching the filters, as a select (the page, the counts and the CSV share it)."""
    query = select(Concern)
    if f.locality_id:
        query = query.where(Concern.locality_id.in_(descendant_ids(f.locality_id)))
    if f.area_ids:
        under = set()
        for area_id in f.area_ids:
            under |= set(db.session.execute(descendant_ids(area_id)).scalars())
        query = query.where(Concern.locality_id.in_(under))
    if f.category_id:
        query = query.where(Concern.category_id == f.category_id)
    if f.statuses:
        query = query.where(Concern.status.in_(f.statuses))
    if f.source:
        query = query.where(Concern.source == f.source)
    if f.priority_only:
        query = query.where(Concern.is_priority.is_(True))
    if f.we_did_published:
        query = query.where(we_did_published())
    if f.date_from:
        query = query.where(Concern.raised_on >= f.date_from)
    if f.date_to:
        query = query.where(Concern.raised_on <= f.date_to)
    return query.order_by(*register_order(f).by())


def register_order(f: RegisterFilters):
    return SORTS.get(f.sort, SORTS["newest"])


def status_counts(query):
    sub = query.order_by(None).subquery()
    rows = db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all()
    counts = dict(rows)
    return [(status, STATUS_LABELS[status], counts.get(status, 0)) for status in STATUSES]


def register_page(f: RegisterFilters, page_no, per_page, *, after=None, before=None, tail=None):
    """(one page of the register, its counts by status). One GROUP BY gives the counts and the total, so
    the matching rows are aggregated once; the page is read in the register's order from an index (0014),
    from the position of a Previous or Next link when there is one (portal/paging.py)."""
    counts = status_counts(register_query(f))
    page = seek_page(db.session, register_query(f).options(selectinload(Concern.category)), register_order(f),
                     page=page_no, per_page=per_page, after=after, before=before, tail=tail,
                     total=sum(n for _, _, n in counts))
    return page, counts


CSV_COLUMNS = ("id", "raised_on", "area", "locality", "category", "source", "status", "priority",
               "raised_count", "you_said", "we_did", "responded_on", "published", "internal_notes", "street")


def hold_categories():
    """Every concern category (a few dozen), loaded in one query and held for the request (``g``), as
    places.hold_localities holds the places: a row's ``category`` is then read without SQL."""
    if "concern_categories" not in g:
        g.concern_categories = db.session.execute(select(ConcernCategory)).scalars().all()
    return g.concern_categories


def register_rows(query):
    """Rows for the CSV export (staff only: it includes internal notes), streamed in batches of 500, with
    the same statements for 100 rows as for 100,000 (places and categories are held, not loaded per batch)."""
    hold_localities()
    hold_categories()
    for concern in db.session.execute(query.execution_options(yield_per=500)).scalars():
        area = concern.locality.area
        yield (concern.id, concern.raised_on.isoformat(), area.name if area else "", concern.locality.name,
               concern.category.name, concern.source_label, concern.status_label,
               "yes" if concern.is_priority else "no", concern.raised_count, concern.you_said, concern.we_did,
               concern.responded_on.isoformat() if concern.responded_on else "",
               "yes" if concern.published else "no", concern.internal_notes, concern.street)


# ---- Table 1: top PACT concern categories ------------------------------------------------------

def top_categories(locality_id, date_from, date_to, limit=3):
    """The PACT concern categories most raised in a locality (and below) over a period.

    Ranked by residents raising them (the sum of raised counts, repeats included),
    then by number of concerns, then by name, so the order is stable.
    """
    raised = func.sum(Concern.raised_count).label("raised")
    query = (select(ConcernCategory.name, raised, func.count(Concern.id).label("concerns"))
             .join(Concern.category)
             .where(Concern.source == "pact", Concern.repeat_of_id.is_(None),
                    Concern.locality_id.in_(descendant_ids(locality_id)),
                    Concern.raised_on >= date_from, Concern.raised_on <= date_to)
             .group_by(ConcernCategory.name)
             .order_by(raised.desc(), func.count(Concern.id).desc(), ConcernCategory.name)
             .limit(limit))
    return db.session.execute(query).all()


def table_one(date_from, date_to, limit=3):
    """[(locality, [rows])] for the county and each area: the source document's Table 1."""
    county = db.session.execute(select(Locality).where(Locality.level == "county")).scalar_one()
    areas = db.session.execute(select(Locality).where(Locality.level == "area")
                               .order_by(case(AREA_ORDER, value=Locality.key, else_=9))).scalars().all()
    return [(loc, top_categories(loc.id, date_from, date_to, limit)) for loc in [county, *areas]]


AREA_ORDER = {"north": 1, "central": 2, "south": 3}
