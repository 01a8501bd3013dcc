"""The strategic assessment: recorded crime by type for the county and each area over a window of
months, compared with an earlier window, and the wards ranked by their rate."""
from sqlalchemy import select
from sqlalchemy.orm import undefer

from ..extensions import db
from ..places.models import Locality
from ..places.services import descendants_map
from .categories import ASB, LABELS
from .stats import add_months, change_pct, crime_counts, crime_rates, months_with_data


def strategic_assessment(latest, end=None, length=12, compare="year"):
    """The assessment's figures: its window (see ``assessment_window``), a sentence describing it, one
    section (place, rows by crime type, sentence) for the county and each area, and every ward ranked by
    recorded crime per 1,000 residents a year."""
    w = assessment_window(latest, end, length, compare)
    window = (f"{w['start']:%B %Y} to {w['end']:%B %Y} compared with {w['compared_with']} "
              f"({w['before_start']:%B %Y} to {w['before_end']:%B %Y})")
    places = list(db.session.execute(select(Locality).where(Locality.key == "shropshire")).scalars()) + list(
        db.session.execute(select(Locality).where(Locality.level == "area").order_by(Locality.id)).scalars())
    below = descendants_map()
    sections = []
    for place in places:
        ids = below.get(place.id, {place.id})
        rows = change_by_type(crime_counts(w["start"], w["end"], ids),
                              crime_counts(w["before_start"], w["before_end"], ids),
                              len(w["months"]), len(w["before_months"]))
        sections.append((place, rows, sentence(place.name, rows, window)))
    ranked = vulnerable_localities(w["start"], w["end"], w["before_start"], w["before_end"], level="ward",
                                   limit=None, below=below, months=(len(w["months"]), len(w["before_months"])),
                                   boundaries=True)
    return {"w": w, "window": window, "sections": sections, "ranked": ranked}


def assessment_window(latest, end=None, length=12, compare="year"):
    """The window the assessment covers (default: the 12 months to the latest month with data) and the
    one it is compared with: the same months a year earlier, or the months just before."""
    end = end or latest
    start = add_months(end, -(length - 1))
    back = length if compare == "previous" else 12
    before_start, before_end = add_months(start, -back), add_months(end, -back)
    return {"start": start, "end": end, "before_start": before_start, "before_end": before_end,
            "months": months_with_data(start, end), "before_months": months_with_data(before_start, before_end),
            "length": length, "compare": compare,
            "compared_with": "the same months a year earlier" if compare == "year" else "the months just before"}


def change_by_type(current, previous, months_now=1, months_before=1):
    """[(label, now, before, change %)] by crime type, all recorded crime (not ASB) first; the change
    is month for month when the two windows hold different numbers of months of data."""
    def pct(now, before):
        return change_pct(now, before, months_now, months_before)

    crime_now = sum(n for t, n in current.items() if t != ASB)
    crime_before = sum(n for t, n in previous.items() if t != ASB)
    rows = [("All recorded crime", crime_now, crime_before, pct(crime_now, crime_before))]
    for kind in sorted(set(current) | set(previous), key=lambda t: -current.get(t, 0)):
        rows.append((LABELS.get(kind, kind), current.get(kind, 0), previous.get(kind, 0),
                     pct(current.get(kind, 0), previous.get(kind, 0))))
    return rows


def sentence(place, rows, window):
    """The source document's paragraph, computed: 'all recorded crime fell by 10.54%; ...'."""
    def phrase(name, change):
        if change is None:
            return f"{name} has no figures for the months compared with"
        if abs(change) < 0.005:
            return f"{name} was unchanged"
        return f"{name} {'fell' if change < 0 else 'rose'} by {abs(change):.2f}%"

    head = rows[0]
    movers = sorted((r for r in rows[1:] if r[3] is not None and r[2] >= 10), key=lambda r: r[3])
    parts = [phrase("all recorded crime", head[3])]
    if movers:
        best, worst = movers[0], movers[-1]
        parts.append(phrase(best[0], best[3]))
        if worst is not best and worst[3] > 0:
            parts.append(phrase(worst[0], worst[3]))
    return f"{place}: performance for {window} shows that " + "; ".join(parts) + "."


def vulnerable_localities(date_from, date_to, previous_from, previous_to, level="ward", limit=15, below=None,
                          months=(None, None), boundaries=False):
    """Localities ranked by recorded crime per 1,000 residents a year (not ASB, annualised by the months
    with data), with the change on the comparison window. ``below`` and ``months`` (now, before): what
    the caller already holds, as crime_rates takes them. ``boundaries``: load every boundary in the same
    query (for the map), not one query per locality."""
    query = select(Locality).where(Locality.level == level, Locality.active, Locality.population > 0)
    if boundaries:
        query = query.options(undefer(Locality.boundary))
    localities = db.session.execute(query).scalars().all()
    below = descendants_map() if below is None else below
    now = crime_rates(localities, date_from, date_to, months=months[0], below=below)
    before = crime_rates(localities, previous_from, previous_to, months=months[1], below=below)
    ranked = [{"locality": loc, "crimes": now[loc.id].crimes, "before": before[loc.id].crimes,
               "months": now[loc.id].months, "rate": now[loc.id].per_1000_a_year or 0.0,
               "change": change_pct(now[loc.id].crimes, before[loc.id].crimes, now[loc.id].months,
                                    before[loc.id].months)}
              for loc in localities]
    ranked.sort(key=lambda r: -(r["rate"] or 0))
    return ranked[:limit] if limit else ranked
