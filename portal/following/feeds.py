"""Read-only, publicly cached views of a place's public record: its PACT meetings page, their iCalendar
feed and the place's Atom feed (every locality has them, the county's included).

They are a blueprint of their own, "following.feeds", named in portal.PUBLICLY_CACHED_BLUEPRINTS, so
browsers and proxies may keep an anonymous visitor's copy for PUBLIC_CACHE_SECONDS (with an ETag), as
they keep the "You said, we did" pages; each body is built once per data version for everyone
(public/caching.py). The sign-up forms live in views.py, where nothing is cached.

The Atom feed is a small Jinja template (templates/following/feed.xml), escaped by Flask's autoescape
for .xml templates: no library is needed to write twenty entries. The calendar uses icalendar, which
escapes, folds lines and formats dates as RFC 5545 requires.
"""
import re
from datetime import datetime, time, timedelta, timezone
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template
from icalendar import Calendar, Event
from markupsafe import Markup

from ..access import PUBLIC, allow
from ..notifications.services import portal_link
from ..public import caching
from ..public.caching import http_cached
from . import updates
from .services import followable

bp = Blueprint("feeds", __name__)
FEED_ENTRIES = 50
# XML 1.0 cannot carry these characters at all, escaped or not; a pasted text may hold them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def place_or_404(key):
    place = followable(key)
    if place is None:
        abort(404)
    return place


def xml_text(value):
    return NOT_XML.sub("", str(value or ""))


def _instant(value):
    """An Atom date (RFC 3339, UTC) from a date or a naive UTC datetime."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def feed_entries(place):
    """The Atom entries of a place: its published concerns with their "We did", newest first, then its
    upcoming PACT meetings."""
    below = updates.ids_below(place)
    entries = []
    records = updates.published_records(below, limit=FEED_ENTRIES)
    changed_at = updates.last_changed([r["id"] for r in records])
    for r in records:
        link = updates.item_link(r)  # on the page of the list it is on now; its id never changes
        entry_id = portal_link("public.locality", key=r["locality_key"]) + f"#concern-{r['id']}"
        lines = [f"You said ({r['raised_on']}): {r['you_said']}"]
        if r["we_did"]:
            lines.append(f"We did ({r['responded_on']}): {r['we_did']}")
        elif r["reason"]:
            lines.append(f"{r['status_label']} ({r['decided_on']}): {r['reason']}")
        else:
            lines.append(f"{r['status_label']}: we are working on it.")
        # A correction or redaction changes no public date, but the row's time: readers fetch the new text.
        dated = max(datetime.fromisoformat(d) for d in (r["raised_on"], r["responded_on"], r["decided_on"]) if d)
        changed = max(dated, changed_at.get(r["id"], dated))
        entries.append({"id": entry_id, "link": link, "updated": _instant(changed),
                        "title": f"{r['category'].capitalize()}, {r['locality']}: {r['status_label']}",
                        "text": "\n".join(lines)})
    for m in updates.upcoming_meetings(below):
        link = portal_link("following.feeds.meetings", key=m["locality_key"])
        venue = f", {m['venue']}" if m["venue"] else ""
        entries.append({"id": f"{link}#meeting-{m['id']}", "link": link, "updated": _instant(m["updated_at"]),
                        "title": f"PACT meeting in {m['locality']} on {m['date']:%d %B %Y}{venue}",
                        "text": "Partners and Community Together: tell the police and partners what worries you "
                                "in your neighbourhood. Everyone is welcome."})
    return entries


def atom_feed(place):
    entries = feed_entries(place)
    return render_template(
        "following/feed.xml", place=place, entries=entries, clean=xml_text,
        updated=max((e["updated"] for e in entries), default=_instant(datetime(2010, 4, 1))),
        self_url=portal_link("following.feeds.atom", key=place.key),
        page_url=portal_link("public.locality", key=place.key))


def meetings_calendar(place):
    """The place's upcoming PACT meetings as an RFC 5545 calendar (all-day events: a meeting has a date
    and a venue, no time)."""
    host = urlsplit(current_app.config["PORTAL_URL"]).netloc
    calendar = Calendar()
    calendar.add("prodid", "-//Shropshire Community Safety Partnership//PACT meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"PACT meetings: {place.name}")
    for m in updates.upcoming_meetings(updates.ids_below(place)):
        event = Event()
        event.add("uid", f"pact-meeting-{m['id']}-{m['date']:%Y%m%d}@{host}")
        event.add("dtstamp", m["updated_at"].replace(tzinfo=timezone.utc))
        event.add("dtstart", m["date"])
        event.add("dtend", m["date"] + timedelta(days=1))
        event.add("summary", f"PACT meeting: {m['locality']}")
        if m["venue"]:
            event.add("location", m["venue"])
        event.add("description", "Partners and Community Together: tell the police and partners what worries "
                                 "you. Everyone is welcome.")
        event.add("url", portal_link("following.feeds.meetings", key=m["locality_key"]))
        calendar.add_component(event)
    return calendar.to_ical().decode()


@bp.route("/places/<key>/pact-meetings")
@allow(PUBLIC)
@http_cached
def meetings(key):
    place = place_or_404(key)

    def build():
        return Markup(render_template("following/_meetings_body.html", place=place,
                                      meetings=updates.upcoming_meetings(updates.ids_below(place))))

    return render_template("following/meetings.html", place=place,
                           body=caching.shared("pact-meetings", build, key))


@bp.route("/places/<key>/pact-meetings.ics")
@allow(PUBLIC)
@http_cached
def calendar(key):
    place = place_or_404(key)
    body = caching.shared("pact-meetings-ics", lambda: meetings_calendar(place), key)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="pact-meetings-{key}.ics"'})


@bp.route("/places/<key>/updates.atom")
@allow(PUBLIC)
@http_cached
def atom(key):
    place = place_or_404(key)
    return Response(caching.shared("atom", lambda: atom_feed(place), key), mimetype="application/atom+xml")
