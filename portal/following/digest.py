"""The followers' digest: at most one a day per confirmed address, only when something happened.

Each digest covers the window from the end of the last one (or the confirmation) to now, and tells the
"We did" texts residents could first read in it and the PACT meetings scheduled in it, for every place
the address follows (and the places inside them), from the public record only (updates.py). Run twice,
it sends nothing the second time: the window has moved on, and each follower's digest of a day has one
outbox dedupe key. On PostgreSQL two runs at once skip each other's followers (FOR UPDATE SKIP LOCKED).
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
        sections = []
        for place in follower.places:
            below = updates.ids_below(place)
            we_dids = updates.we_dids_published(below, after, now)
            meetings = updates.upcoming_meetings(below, now.date(), changed_after=after, changed_until=now)
            if we_dids or meetings:
                sections.append((place, we_dids, meetings))
        if not sections:
            continue  # nothing new: the window stays open, so nothing is missed tomorrow
        names = ", ".join(place.name for place, _, _ in sections)
        message = notify_address(follower.email, f"Community safety updates: {names}"[:200],
                                 digest_text(follower, sections), kind="follow-digest",
                                 dedupe_key=f"follow-digest:{follower.id}:{now:%Y-%m-%d}",
                                 unsubscribe_url=unsubscribe_link(follower))
        follower.last_digest_at = now
        queued += message is not None
    db.session.flush()
    return queued
