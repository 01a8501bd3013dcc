"""What followers, feeds and calendars tell about a place: the public record only.

Concerns come from portal/public/services.py as ``public_record()`` shapes them; PACT meetings as
``public_meeting()`` shapes them here: the date and venue of the next meeting and where it is, never
the attendance, the notes or the partners of the meeting that set it.
"""
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..concerns.models import RESPONDED, Concern, ConcernEvent, PactMeeting
from ..extensions import db
from ..places.models import descendant_ids
from ..places.services import hold_localities
from ..public import services as public


def ids_below(locality):
    """The locality's id and those of every place inside it."""
    return list(db.session.execute(descendant_ids(locality.id)).scalars())


def public_meeting(meeting):
    """A PACT meeting as residents may see it: its next date, venue and place."""
    return {"id": meeting.id, "date": meeting.next_meeting_on, "venue": meeting.next_meeting_venue,
            "locality": meeting.locality.name, "locality_key": meeting.locality.key,
            "updated_at": meeting.updated_at}


def upcoming_meetings(locality_ids, today=None, *, changed_after=None, changed_until=None):
    """The next PACT meetings in these places from ``today`` on, soonest first; one per place, date and
    venue (several meetings may name the same next one). ``changed_*`` keep those scheduled in a window."""
    hold_localities()
    query = (select(PactMeeting).where(PactMeeting.locality_id.in_(locality_ids),
                                       PactMeeting.next_meeting_on >= (today or date.today()))
             .order_by(PactMeeting.next_meeting_on, PactMeeting.id))
    if changed_after is not None:
        query = query.where(PactMeeting.updated_at > changed_after, PactMeeting.updated_at <= changed_until)
    seen, meetings = set(), []
    for meeting in db.session.execute(query).scalars():
        key = (meeting.locality_id, meeting.next_meeting_on, meeting.next_meeting_venue.strip().lower())
        if key not in seen:
            seen.add(key)
            meetings.append(public_meeting(meeting))
    return meetings


def published_records(locality_ids, limit=50):
    """The newest published concerns of these places, as public records."""
    return public.public_records(public.PublicFilters(locality_ids=locality_ids), limit=limit)


def last_changed(concern_ids):
    """{concern id: when its row last changed, to the second}: what a feed entry's <updated> says, so a
    redacted or corrected "We did", "You said" or reason reaches feed readers. A timestamp only, kept out of
    the public record itself (it may also move with a change residents do not see, which shows nothing)."""
    if not concern_ids:
        return {}
    rows = db.session.execute(select(Concern.id, Concern.updated_at).where(Concern.id.in_(concern_ids)))
    return {concern_id: at.replace(microsecond=0) for concern_id, at in rows}


def we_dids_published(locality_ids, after, until):
    """Public records of these places whose "We did" residents could first read in (after, until]:
    published in that window, or answered in it while published. A later correction of a published
    "We did" is not announced again."""
    changed = (select(ConcernEvent.concern_id)
               .where(ConcernEvent.at > after, ConcernEvent.at <= until,
                      or_(ConcernEvent.kind == "published", ConcernEvent.to_status == RESPONDED)))
    query = (public.published_query(public.PublicFilters(locality_ids=locality_ids))
             .where(Concern.id.in_(changed)).options(selectinload(Concern.category)))
    hold_localities()
    records = [public.public_record(c) for c in db.session.execute(query).scalars()]
    return [r for r in records if r["we_did"]]


def item_link(record):
    """The absolute address of a published concern's item on its locality's page, on the page of that list
    it is on (newest first, PER_PAGE a page), so the #concern-<id> anchor is there to land on."""
    from ..notifications.services import portal_link
    from ..places.models import Locality
    from ..public.views import PER_PAGE

    place = db.session.execute(select(Locality).where(Locality.key == record["locality_key"])).scalar_one()
    raised = date.fromisoformat(record["raised_on"])
    newer = (public.published_query(public.PublicFilters(locality_ids=ids_below(place))).order_by(None)
             .where(or_(Concern.raised_on > raised, (Concern.raised_on == raised) & (Concern.id > record["id"])))
             .with_only_columns(func.count()))
    page = db.session.execute(newer).scalar_one() // PER_PAGE + 1
    values = {"page": page} if page > 1 else {}
    return portal_link("public.locality", key=place.key, **values) + f"#concern-{record['id']}"
