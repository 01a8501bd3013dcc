"""The monthly PMCG pack: the PMCG report's own rows (portal.indicators.services.report, one source of
truth) for the county and its three areas, the analysts' commentary, the exceptions, and the pack as
issued: a PDF rendered once by WeasyPrint from the same document template as the page, and kept."""
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..errors import ConflictError, NotAllowed, PortalError
from ..extensions import db
from ..indicators import services as indicators
from ..indicators.periods import add_months, label
from ..indicators.services import ReportRow
from ..models import utcnow
from ..notifications.services import notify_address, portal_link
from ..places.models import Locality
from ..plan.models import IndicatorDefinition
from .charts import trend_svg
from .models import IssuedPack, PackCommentary
from .policy import may_read, may_write

log = logging.getLogger(__name__)
FREQUENCY, PERIOD_TYPE = "monthly", "month"  # the PMCG pack is monthly
MAX_COMMENTARY = 2000
PACK_LOCK = 0x5C5B_0021  # with the month, the advisory lock that orders commentary and issuing (PostgreSQL)
UNIT_DIGITS = {"percentage": 1, "count": 0}


@dataclass
class PackIndicator:
    """One indicator in the pack: the county's report row, its drill-down to the areas, its trend and
    the commentary written for it ({locality id: the latest note})."""

    county: ReportRow
    areas: list  # [(Locality, ReportRow)]
    chart: object = None  # charts.TrendSvg
    commentary: dict = field(default_factory=dict)


@dataclass
class PackException:
    locality: Locality
    row: ReportRow
    reason: str  # "Red", or "Newly Amber (Green in Oct 2018)"
    commentary: Optional[PackCommentary] = None


@dataclass
class Pack:
    month: date
    label: str
    county: Locality
    areas: list
    indicators: list
    exceptions: list
    issued: Optional[IssuedPack] = None

    @property
    def has_figures(self):
        return any(i.county.value is not None or any(r.value is not None for _, r in i.areas)
                   for i in self.indicators)


def county():
    return db.session.execute(select(Locality).where(Locality.parent_id.is_(None), Locality.level == "county")
                              .order_by(Locality.id)).scalars().first()


def pack_localities():
    """The county and its areas: the localities the pack reports on and commentary is written for."""
    top = county()
    return [top] + list(indicators.children_of(top)) if top else []


def months_available():
    """[(month, label)] of the months that have indicator values, newest first."""
    return [(start, text) for start, _, text in indicators.periods_available(PERIOD_TYPE)]


def parse_month(text):
    """A month from "2018-11" (the pack's address), or None."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        return None


def pack_contents(month):
    """Everything the pack shows for a month, read through the PMCG report's services: each indicator's
    county row with its three areas, trend chart and commentary, and the exceptions (Red, and newly Amber:
    Amber now but not Amber the month before) at the county and each area, with their commentary."""
    places = pack_localities()
    top, areas = places[0], places[1:]
    rows = {loc.id: indicators.report(FREQUENCY, month, loc) for loc in places}
    before = {loc.id: {r.indicator.id: r.rag for r in indicators.report(FREQUENCY, add_months(month, -1), loc)}
              for loc in places}
    notes = latest_commentary(month)
    charts = indicators.trends({r.indicator: r.aim for r in rows[top.id] if r.value}, top.id, PERIOD_TYPE)
    entries = []
    for i, row in enumerate(rows[top.id]):
        chart = charts.get(row.indicator.id)
        entries.append(PackIndicator(
            row, [(area, rows[area.id][i]) for area in areas],
            trend_svg(chart, UNIT_DIGITS.get(row.indicator.unit, 2)) if chart else None,
            {loc.id: notes[(row.indicator.id, loc.id)] for loc in places if (row.indicator.id, loc.id) in notes}))
    exceptions = []
    previous_label = label(PERIOD_TYPE, add_months(month, -1))
    for loc in places:
        for row in rows[loc.id]:
            reason = exception_reason(row.rag, before[loc.id].get(row.indicator.id), previous_label)
            if reason:
                exceptions.append(PackException(loc, row, reason, notes.get((row.indicator.id, loc.id))))
    return Pack(month, label(PERIOD_TYPE, month), top, areas, entries, exceptions, issued_pack(month))


def exception_reason(rag, rag_before, previous_label):
    """Why a row is an exception, or "": every Red, and an Amber that was not Amber the period before
    (Green, Red, or no RAG then): a standing Amber was reported when it first turned Amber."""
    if rag == "Red":
        return "Red"
    if rag == "Amber" and rag_before != "Amber":
        return f"Newly Amber ({rag_before or 'no RAG'} in {previous_label})"
    return ""


# ---- commentary -------------------------------------------------------------------------------------

def latest_commentary(month):
    """{(indicator id, locality id): the latest note} for a month (one query)."""
    notes = {}
    for note in db.session.execute(select(PackCommentary).options(selectinload(PackCommentary.written_by)).where(
            PackCommentary.period_type == PERIOD_TYPE, PackCommentary.period_start == month)
            .order_by(PackCommentary.id)).scalars():
        notes[(note.indicator_id, note.locality_id)] = note
    return notes


def commentary_history(indicator_id, month):
    """Every note written on an indicator for a month, at every locality, newest first."""
    return db.session.execute(select(PackCommentary).options(
        selectinload(PackCommentary.written_by), selectinload(PackCommentary.locality)).where(
        PackCommentary.indicator_id == indicator_id, PackCommentary.period_type == PERIOD_TYPE,
        PackCommentary.period_start == month).order_by(PackCommentary.id.desc())).scalars().all()


def write_commentary(*, by, indicator_id, locality_id, month, text):
    """Keep an analyst's note on an indicator at the county or an area for a month (append-only: the
    latest is the note, the earlier ones its history). Analysts and admins only; refused once the month's
    pack is issued. Returns the note (the same one when the text did not change). Flushes."""
    if not may_write(by):
        raise NotAllowed("Only analysts and admins write the pack's commentary")
    if db.session.get(IndicatorDefinition, indicator_id or 0) is None:
        raise PortalError("Choose an indicator", field="indicator")
    if locality_id not in {loc.id for loc in pack_localities()}:
        raise PortalError("Choose the county or one of its areas", field="locality")
    text = (text or "").strip()
    if not text:
        raise PortalError("Enter the commentary", field="text")
    if len(text) > MAX_COMMENTARY:
        raise PortalError(f"The commentary must be {MAX_COMMENTARY:,} characters or fewer", field="text")
    refuse_if_issued(month)
    if month not in {m for m, _ in months_available()}:
        raise PortalError(f"There are no figures for {month:%B %Y}", field="text")
    latest = latest_commentary(month).get((indicator_id, locality_id))
    if latest is not None and latest.text == text:
        return latest
    note = PackCommentary(indicator_id=indicator_id, locality_id=locality_id, period_type=PERIOD_TYPE,
                          period_start=month, text=text, written_by_id=by.id)
    db.session.add(note)
    db.session.flush()
    return note


def lock_month(month):
    """Commentary and issuing for one month take turns (until their transaction ends): a note saved while
    the pack renders waits, then finds the pack issued; one saved before is in the PDF. On PostgreSQL an
    advisory lock; SQLite lets one writer at a time in any case."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS integer), CAST(:month AS integer))"),
                           {"key": PACK_LOCK, "month": month.year * 100 + month.month})


def refuse_if_issued(month):
    lock_month(month)
    issued = issued_pack(month)
    if issued is not None:
        raise ConflictError(f"The pack for {month:%B %Y} was issued on {issued.issued_at:%d %B %Y} by "
                            f"{issued.issued_by.display_name}: its commentary can no longer change")


# ---- issuing --------------------------------------------------------------------------------------------

def issued_pack(month):
    return db.session.execute(select(IssuedPack).where(IssuedPack.month == month)).scalar_one_or_none()


def issued_packs():
    return db.session.execute(select(IssuedPack).options(selectinload(IssuedPack.issued_by))
                              .order_by(IssuedPack.month.desc())).scalars().all()


def issued_pdf(pack_id, *, by):
    """The issued pack and its PDF bytes exactly as stored at issue; NotAllowed unless ``by`` may read
    packs, None when there is no such pack."""
    if not may_read(by):
        raise NotAllowed("Only analysts, admins and officers open the PMCG pack")
    return db.session.get(IssuedPack, pack_id)


def render_document(contents, *, issued_by=None, issued_at=None):
    """The pack's HTML for the PDF engine: templates/pack/pdf.html around the document the page shows
    (templates/pack/_document.html). Rendered from the app's Jinja environment, not render_template,
    so it needs no request (a Celery worker has none) and carries no page chrome."""
    return current_app.jinja_env.get_template("pack/pdf.html").render(
        pack=contents, issued_by=issued_by, issued_at=issued_at, links=False)


def render_pdf(html):
    """HTML to PDF bytes with WeasyPrint. The document embeds everything it shows (inline CSS and SVG),
    so the fetcher allows data: URIs only: nothing in a pack can make the renderer fetch a file or URL."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def issue_pack(*, by, month):
    """Render the month's pack to PDF and keep it as issued (who, when, the bytes and their SHA-256);
    from then on the month's commentary is frozen and the PDF is served as stored. Analysts and admins
    only; refused when the month has no figures or was already issued. Flushes."""
    if not may_write(by):
        raise NotAllowed("Only analysts and admins issue the PMCG pack")
    lock_month(month)
    if issued_pack(month) is not None:
        raise ConflictError(f"The pack for {month:%B %Y} has already been issued")
    contents = pack_contents(month)
    if not contents.has_figures:
        raise PortalError(f"There are no figures for {month:%B %Y} to issue")
    issued_at = utcnow()
    pdf = render_pdf(render_document(contents, issued_by=by, issued_at=issued_at))
    pack = IssuedPack(month=month, issued_by_id=by.id, issued_at=issued_at, pdf=pdf,
                      sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
    db.session.add(pack)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # issued at the same moment by someone else: theirs stands
        raise ConflictError(f"The pack for {month:%B %Y} has just been issued by someone else") from error
    return pack


# ---- telling the PMCG --------------------------------------------------------------------------------

def distribution_list():
    """The PMCG distribution list: PMCG_DISTRIBUTION, addresses separated by commas, semicolons or spaces."""
    raw = current_app.config.get("PMCG_DISTRIBUTION") or ""
    seen, addresses = set(), []
    for address in raw.replace(";", ",").replace(" ", ",").split(","):
        address = address.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    return addresses


def notify_issued_packs():
    """Queue one message per address on the distribution list for every issued pack not yet announced,
    with a link to download it; each address once per pack whatever the number of runs. With no list
    configured nothing is queued and the packs wait. Returns how many messages were queued. Flushes."""
    addresses = distribution_list()
    waiting = db.session.execute(select(IssuedPack).options(selectinload(IssuedPack.issued_by))
                                 .where(IssuedPack.notified_at.is_(None)).order_by(IssuedPack.id)).scalars().all()
    if waiting and not addresses:
        log.warning("PMCG_DISTRIBUTION is empty: %d issued pack(s) not announced", len(waiting))
        return 0
    queued = 0
    for pack in waiting:
        link = portal_link("pack.download", pack_id=pack.id)
        body = (f"The PMCG pack for {pack.month:%B %Y} was issued by {pack.issued_by.display_name} on "
                f"{pack.issued_at:%d %B %Y at %H:%M} UTC.\n\nDownload it (sign in to the portal): {link}\n")
        for address in addresses:
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:24]
            if notify_address(address, f"PMCG pack for {pack.month:%B %Y} issued", body, kind="pmcg_pack",
                              dedupe_key=f"pmcg-pack:{pack.id}:{digest}"):
                queued += 1
        pack.notified_at = utcnow()
    db.session.flush()
    return queued
