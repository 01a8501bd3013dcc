"""Open311 GeoReport v2, read only, over published concerns (https://wiki.open311.org/GeoReport_v2).

Service codes are concern category ids; a request is a published concern in
its public shape, so civic tools see exactly what residents see.
"""
from datetime import datetime

from sqlalchemy import select

from ..concerns.models import Concern, ConcernCategory
from ..extensions import db
from ..forms import parse_id
from . import services as public

MAX_REQUESTS = 1000  # the spec's suggested default cap


def services_list():
    rows = db.session.execute(select(ConcernCategory).where(ConcernCategory.retired.is_(False))
                              .order_by(ConcernCategory.group, ConcernCategory.name)).scalars()
    return [{"service_code": str(c.id), "service_name": c.name.capitalize(), "description": c.name,
             "metadata": False, "type": "realtime", "keywords": c.group, "group": c.group} for c in rows]


def as_request(concern):
    record = public.public_record(concern)
    return {
        "service_request_id": str(record["id"]),
        # GeoReport has two states: a concern passed to the county group is still being dealt with.
        "status": "closed" if record["status"] in public.FINISHED else "open",
        "status_notes": " ".join(filter(None, (record["we_did"], record["reason"]))) or None,
        "service_name": record["category"].capitalize(),
        "service_code": str(concern.category_id),
        "description": record["you_said"],
        "agency_responsible": "Shropshire Safer Stronger Communities Partnership",
        "service_notice": None,
        "requested_datetime": record["raised_on"] + "T00:00:00Z",
        "updated_datetime": (max(filter(None, (record["responded_on"], record["decided_on"])), default=None)
                             or record["raised_on"]) + "T00:00:00Z",
        "expected_datetime": None,
        "address": record["locality"],
        "address_id": record["locality_key"],
        "zipcode": None,
        "lat": record["lat"],
        "long": record["lon"],
        "media_url": None,
    }


def _date(args, name):
    value = args.get(name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"{name} must be a W3C date-time like 2010-03-31T00:00:00Z, not '{value}'") from None


def requests(args):
    f = public.PublicFilters(date_from=_date(args, "start_date"), date_to=_date(args, "end_date"))
    codes = [c for c in (args.get("service_code") or "").split(",") if c]
    status = args.get("status")
    if status not in (None, "", "open", "closed"):
        raise ValueError(f"status must be open or closed, not '{status}'")
    query = public.published_query(f)
    if codes:
        ids = [parse_id(c) for c in codes]
        if None in ids:
            raise ValueError("service_code must be one or more service codes from services.json, comma separated")
        query = query.where(Concern.category_id.in_(ids))
    finished = [s for state in public.FINISHED for s in public.PUBLIC_STATUSES_OF[state]]
    if status == "open":
        query = query.where(Concern.status.notin_(finished))
    elif status == "closed":
        query = query.where(Concern.status.in_(finished))
    rows = db.session.execute(public.with_public_relations(query).limit(MAX_REQUESTS)).scalars()
    return [as_request(concern) for concern in rows]


def request_by_id(concern_id):
    concern = public.published_concern(concern_id)
    return as_request(concern) if concern is not None else None


def services():
    """GeoReport's name for the list of service types."""
    return services_list()
