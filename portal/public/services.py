"""What residents see: published concerns, their public texts only, at generalised points.

Privacy rule, in one place: a published concern leaves the server as
``public_record()`` builds it (category, locality, the "You said" and
"We did" texts and their dates, a public status) at the centre of its
locality, never the stored point, street, notes or who logged it.
"""
import json
from dataclasses import dataclass
from datetime import date
from typing import Optional

from flask import current_app
from shapely.geometry import mapping, shape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from ..concerns.models import (
    ACCEPTED,
    CLOSED,
    ESCALATED,
    IN_PROGRESS,
    NEW,
    NO_FURTHER_ACTION,
    RESPONDED,
    Concern,
    PactMeeting,
)
from ..concerns.services import hold_categories
from ..crime.models import CrimeImport
from ..extensions import db
from ..forms import parse_id
from ..paging import Order, seek_page
from ..places.models import Locality, descendant_ids
from ..places.services import hold_localities
from .record import PublicConcern
from .signals import data_version as version_parts

# Residents see five states, not the partnership's workflow: the last two with the reason, as "We did" is.
RAISED, IN_HAND, DONE, NO_ACTION, COUNTY = "raised", "in_hand", "responded", "no_further_action", "escalated"
PUBLIC_STATUS = {NEW: RAISED, ACCEPTED: IN_HAND, IN_PROGRESS: IN_HAND, RESPONDED: DONE, CLOSED: DONE,
                 NO_FURTHER_ACTION: NO_ACTION, ESCALATED: COUNTY}
PUBLIC_STATUS_LABELS = {RAISED: "Raised", IN_HAND: "In hand", DONE: "Responded", NO_ACTION: "No further action",
                        COUNTY: "Passed to the county group"}
PUBLIC_STATUSES_OF = {v: [k for k, s in PUBLIC_STATUS.items() if s == v] for v in PUBLIC_STATUS_LABELS}
FINISHED = (DONE, NO_ACTION)  # Open311's "closed"; the rest are still being dealt with


@dataclass
class PublicFilters:
    area_id: Optional[int] = None
    locality_ids: Optional[list] = None
    category_id: Optional[int] = None
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    status: Optional[str] = None  # raised | in_hand | responded

    def key(self):
        return (self.area_id, tuple(self.locality_ids or ()), self.category_id, self.date_from, self.date_to,
                self.status)


def published_query(f: PublicFilters = None):
    """Published concerns matching the filters, newest first."""
    f = f or PublicFilters()
    query = select(Concern).where(Concern.published.is_(True), Concern.status.in_(PUBLIC_STATUS))
    if f.area_id:
        query = query.where(Concern.locality_id.in_(descendant_ids(f.area_id)))
    if f.locality_ids is not None:
        query = query.where(Concern.locality_id.in_(f.locality_ids))
    if f.category_id:
        query = query.where(Concern.category_id == f.category_id)
    if f.date_from:
        query = query.where(Concern.raised_on >= f.date_from)
    if f.date_to:
        query = query.where(Concern.raised_on <= f.date_to)
    if f.status in PUBLIC_STATUSES_OF:
        query = query.where(Concern.status.in_(PUBLIC_STATUSES_OF[f.status]))
    return query.order_by(*NEWEST_FIRST.by())


PER_PAGE = 20  # the list's and the locality pages' records a page
# Newest first, as the ix_concerns_raised_on_id index (0014) reads them.
NEWEST_FIRST = Order((Concern.raised_on, True, "date"), (Concern.id, True, "int"))


def list_position(args, page_no):
    """The Previous or Next link's position in a request, when it is one ({} otherwise, and on page 1,
    which is read from the top). It is part of the cache key, written from its parsed values, so one
    position has one entry however it is spelt."""
    if page_no == 1:
        return {}
    position = {name: ".".join(str(v) for v in values) for name in ("after", "before")
                if (values := NEWEST_FIRST.parse(args.get(name)))}
    tail = parse_id(args.get("tail") or "")
    return position or ({"tail": str(tail)} if tail and tail <= PER_PAGE else {})


def published_page(f: PublicFilters, page_no, per_page, *, after=None, before=None, tail=None):
    """One page of published concerns matching the filters, newest first (portal/paging.py)."""
    return seek_page(db.session, with_public_relations(published_query(f)), NEWEST_FIRST, page=page_no,
                     per_page=per_page, after=after, before=before, tail=tail)


def with_public_relations(query):
    hold_localities()  # each record's locality and area, without a query per row
    return query.options(selectinload(Concern.category))


def public_point(locality):
    """The generalised point of a concern: its locality's centre (documented in the README)."""
    node = locality
    while node is not None and node.centre_lat is None:
        node = node.parent
    return (round(node.centre_lat, 5), round(node.centre_lon, 5)) if node else (None, None)


def published_concern(concern_id):
    """One published concern with what its public record needs, or None."""
    return db.session.execute(with_public_relations(
        published_query().where(Concern.id == concern_id))).scalar_one_or_none()


def public_concern(concern):
    """The PublicConcern of a published concern (record.py): public fields only, at the generalised point."""
    status = PUBLIC_STATUS[concern.status]
    lat, lon = public_point(concern.locality)
    area = concern.locality.area
    # A concern answered and later closed with no further action keeps its published "We did".
    answered = status == DONE or (status == NO_ACTION and concern.responded_on is not None)
    reasoned = status in (NO_ACTION, COUNTY)
    return PublicConcern(
        id=concern.id, category=concern.category.name, group=concern.category.group,
        locality=concern.locality.name, locality_key=concern.locality.key, area=area.name if area else None,
        you_said=concern.you_said, raised_on=concern.raised_on, residents=concern.raised_count,
        priority=concern.is_priority, status=status, status_label=PUBLIC_STATUS_LABELS[status],
        we_did=concern.we_did if answered else "",
        responded_on=concern.responded_on if answered and concern.responded_on else None,
        reason=concern.reason_residents_read if reasoned else "",
        decided_on=concern.decided_on if reasoned else None,
        lat=lat, lon=lon, demo=concern.is_demo)


def public_record(concern):
    """The only shape in which a concern leaves the server for the public: a PublicConcern as JSON types."""
    return public_concern(concern).model_dump(mode="json")


def public_records(f: PublicFilters = None, limit=None, offset=0):
    query = with_public_relations(published_query(f))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [public_record(c) for c in db.session.execute(query).scalars()]


def public_records_streamed(f: PublicFilters = None, batch=500):
    """public_record() of each published concern matching the filters, newest first, read ``batch`` rows
    at a time: an export of any size in constant memory."""
    hold_localities()  # with the categories: no statement per batch, so 100 rows cost what 100,000 do
    hold_categories()
    for concern in db.session.execute(published_query(f).execution_options(yield_per=batch)).scalars():
        yield public_record(concern)


def count_published(f: PublicFilters = None):
    sub = published_query(f).order_by(None).subquery()
    return db.session.execute(select(func.count()).select_from(sub)).scalar_one()


# ---- the map's data: markers grouped by generalised point, texts fetched on click ---------------

def map_points(f: PublicFilters = None):
    """[[lat, lon, [[id, status], ...]], ...]: compact enough for 10,000 concerns in a few dozen KB.

    Points are locality centres, so concerns share them; the popup text of one
    concern is fetched when a resident opens it (public_record by id).
    """
    f = f or PublicFilters()
    sub = published_query(f).order_by(None).subquery()
    rows = db.session.execute(select(sub.c.id, sub.c.status, sub.c.locality_id)).all()
    centres = {}
    for loc in db.session.execute(select(Locality)).scalars():
        centres[loc.id] = loc
    points = {}
    for concern_id, status, locality_id in rows:
        point = public_point(centres[locality_id])
        points.setdefault(point, []).append([concern_id, PUBLIC_STATUS[status]])
    return [[lat, lon, items] for (lat, lon), items in points.items() if lat is not None]


def data_version():
    """Changes whenever what residents can see changes (publishing, a new We did, a PACT meeting's next date)."""
    # The count as well as the newest change: a concern published or withdrawn in a transaction that
    # commits after a later-stamped one would not move the newest change (read every 5 s at most).
    row = db.session.execute(select(func.count(Concern.id), func.max(Concern.updated_at))
                             .where(Concern.published.is_(True))).one()
    # A police.uk month imported changes the evidence lines under published "We did"s (evidence.public_lines).
    meetings, imported = db.session.execute(select(func.max(PactMeeting.updated_at),
                                                   select(func.max(CrimeImport.id)).scalar_subquery())).one()
    # With what higher features show on these pages (residents' approved comments: signals.py).
    parts = [str(part.isoformat() if hasattr(part, "isoformat") else part or 0)
             for part in (row[0], row[1], meetings, imported)]
    return "-".join(parts + [str(part) for _, part in version_parts.send()])


# ---- boundaries, simplified once per process -------------------------------------------------

def ward_boundaries(tolerance=0.0008):
    """Ward polygons as one GeoJSON FeatureCollection, simplified (~80 m) and rounded to ~10 m.

    The full boundaries are 600 KB; residents need the outline, not survey accuracy.
    Built once per process (boundaries change only with the seed).
    """
    cached = current_app.extensions.get("ward_boundaries")
    if cached is not None:
        return cached
    features = []
    rows = db.session.execute(select(Locality).where(Locality.level == "ward")
                              .options(selectinload(Locality.parent), undefer(Locality.boundary))).scalars()
    for loc in rows:
        if not loc.boundary:
            continue
        geometry = mapping(shape(loc.boundary).simplify(tolerance, preserve_topology=True))
        features.append({"type": "Feature", "properties": {"name": loc.name, "key": loc.key},
                         "geometry": _rounded(geometry)})
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    current_app.extensions["ward_boundaries"] = text
    return text


def _rounded(geometry, digits=4):
    def walk(value):
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], (int, float)):
                return [round(v, digits) for v in value]
            return [walk(v) for v in value]
        return value

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


# ---- localities as residents look them up ---------------------------------------------------------

def find_localities(text):
    from ..places.services import find_by_name

    return find_by_name(text)


def locality_page(locality):
    """Everything a locality's public page shows."""
    below = list(db.session.execute(descendant_ids(locality.id)).scalars())
    f = PublicFilters(locality_ids=below)
    priorities = [c for c in public_records(f, limit=200) if c["priority"] and c["status"] not in FINISHED][:6]
    next_meeting = db.session.execute(
        select(PactMeeting).where(PactMeeting.locality_id.in_(below), PactMeeting.next_meeting_on >= date.today())
        .order_by(PactMeeting.next_meeting_on)).scalars().first()
    return {"priorities": priorities, "next_meeting": next_meeting, "total": count_published(f)}
