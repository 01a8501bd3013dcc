"""The followers' digest: at most one a day per confirmed address, only when something happened.

Each digest covers the window from the end of the last one (or the confirmation) to now, and tells the
"We did" texts residents could first read in it and the PACT meetings scheduled in it, for every place
the address follows (and the places inside them), from the public record only (updates.py); an item of a
place inside another followed place is told once, under the smaller place. Run twice, it sends nothing the
second time: the window has moved on, and the digest of a window has one outbox dedupe key (the follower
and where its window starts), so the window moves only with a digest queued and nothing is skipped. On
PostgreSQL two runs at once skip each other's followers (FOR UPDATE SKIP LOCKED).
"""
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import utcnow
from ..notifications.services import notify_address, portal_link
from . import updates
from .models import Follower
from .services import unsubscribe_link

# "Daily at most", with room for beat starting the job a little earlier one day than the day before.
MIN_GAP = timedelta(hours=20)


def _due(now):
    return (select(Follower).where(Follower.confirmed_at.is_not(None),
                                   or_(Follower.last_digest_at.is_(None), Follower.last_digest_at <= now - MIN_GAP))
            .order_by(Follower.id).options(selectinload(Follower.places))
            .with_for_update(skip_locked=True, of=Follower))


def digest_text(follower, sections):
    """The plain-text body: one section per followed place, each "We did" with its link."""
    lines = ["Updates from the Shropshire Community Safety Partnership for the places you follow.", ""]
    for place, we_dids, meetings in sections:
        lines += [place.name, "=" * len(place.name)]
        for r in we_dids:
            link = updates.item_link(r)
            lines += [f"{r['category'].capitalize()}, {r['locality']}", f"You said: {r['you_said']}",
                      f"We did: {r['we_did']}", f"Read it and tell us if it made a difference: {link}", ""]
        for m in meetings:
            venue = f", {m['venue']}" if m["venue"] else ""
            lines += [f"PACT meeting: {m['date']:%A %d %B %Y}{venue} ({m['locality']}). Everyone is welcome.",
                      portal_link("following.feeds.meetings", key=m["locality_key"]), ""]
    lines += ["", "To stop these emails, open this link and press the button (one click in most email apps):",
              unsubscribe_link(follower)]
    return "\n".join(lines)


def send_digests(now=None):
    """Queue one digest for each confirmed follower due one (none yet, or the last MIN_GAP ago) that has
    news since its last; moves each follower's window on. Returns how many were queued. Flushes."""
    now = now or utcnow()
    queued = 0
    for follower in db.session.execute(_due(now)).scalars().all():
        after = follower.last_digest_at or follower.confirmed_at
        sections = digest_sections(follower.places, after, now)
        if not sections:
            continue  # nothing new: the window stays open, so nothing is missed tomorrow
        names = ", ".join(place.name for place, _, _ in sections)
        message = notify_address(follower.email, f"Community safety updates: {names}"[:200],
                                 digest_text(follower, sections), kind="follow-digest",
                                 dedupe_key=window_key(follower, after),
                                 unsubscribe_url=unsubscribe_link(follower))
        if message is not None:  # the window moves only with the digest that told what was in it
            follower.last_digest_at = now
            queued += 1
    db.session.flush()
    return queued


def window_key(follower, after):
    """The outbox dedupe key of a follower's digest of the window starting at ``after``: one digest per
    window, however often the job runs (at most 14 + 20 + 1 + 26 characters, within the column's 120)."""
    return f"follow-digest:{follower.id}:{after.isoformat()}"[:120]


def digest_sections(places, after, until):
    """[(place, we_dids, meetings)] of the followed places with news in (after, until], in the places'
    order. An item in several followed places (an area and a ward inside it) is told once, under the most
    specific of them: the one with the fewest places inside it, as a place inside another holds fewer."""
    below = {place.id: updates.ids_below(place) for place in places}
    seen_concerns, seen_meetings, news = set(), set(), {}
    for place in sorted(places, key=lambda p: (len(below[p.id]), p.id)):
        we_dids = [r for r in updates.we_dids_published(below[place.id], after, until)
                   if r["id"] not in seen_concerns]
        meetings = [m for m in updates.upcoming_meetings(below[place.id], until.date(), changed_after=after,
                                                         changed_until=until)
                    if m["id"] not in seen_meetings]
        seen_concerns.update(r["id"] for r in we_dids)
        seen_meetings.update(m["id"] for m in meetings)
        if we_dids or meetings:
            news[place.id] = (place, we_dids, meetings)
    return [news[place.id] for place in places if place.id in news]
