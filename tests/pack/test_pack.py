"""The monthly PMCG pack: what it holds, the analysts' commentary, issuing it, and who may do what."""
import hashlib
import io
import re
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from portal.errors import ConflictError, NotAllowed, PortalError
from portal.extensions import db
from portal.indicators import services as indicators
from portal.pack import services
from portal.pack.models import IssuedPack, PackCommentary
from portal.people.models import User
from portal.places.models import Locality
from portal.plan.models import IndicatorDefinition

from ..conftest import DEMO_EMAILS, text_of

NOV, OCT = date(2018, 11, 1), date(2018, 10, 1)
SAC = "ni16-serious-acquisitive-crime-rate"


def person(role):
    return db.session.execute(select(User).filter_by(email=DEMO_EMAILS[role])).scalar_one()


def place(key):
    return db.session.execute(select(Locality).filter_by(key=key)).scalar_one()


def indicator(code):
    return db.session.execute(select(IndicatorDefinition).filter_by(code=code)).scalar_one()


def pdf_text(pdf):
    """The PDF's text as a reader sees it, whitespace collapsed (the PDF must open for this to work)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def comment(code, key, text, by="analyst", month=NOV):
    note = services.write_commentary(by=person(by), indicator_id=indicator(code).id, locality_id=place(key).id,
                                     month=month, text=text)
    db.session.commit()
    return note


@pytest.mark.both_databases
def test_the_issued_pdf_holds_the_report_rows_the_areas_the_charts_and_the_commentary(app, backend):
    comment(SAC, "shropshire", "Burglary series in Shrewsbury & <Oswestry>; Operation Lock under way.")
    comment(SAC, "north", "Two prolific offenders recalled to prison.")
    pack = services.issue_pack(by=person("analyst"), month=NOV)
    db.session.commit()

    assert pack.pdf[:5] == b"%PDF-" and pack.size == len(pack.pdf)
    text = pdf_text(pack.pdf)
    assert "PMCG pack: Shropshire, Nov 2018" in text and "Issued by" in text
    county_rows = indicators.report("monthly", NOV, place("shropshire"))
    for row in county_rows:  # every indicator of the plan, under its theme and action, as the report lists them
        assert row.indicator.name in text and row.theme in text
    sac = next(r for r in county_rows if r.indicator.code == SAC)
    assert sac.rag == "Red" and f"{sac.value.value:.2f}" in text and f"{sac.expected:.2f}" in text
    north = next(r for r in indicators.report("monthly", NOV, place("north")) if r.indicator.code == SAC)
    assert f"{north.value.value:.2f}" in text  # the drill-down to the areas
    assert all(area in text for area in ("Central", "North", "South"))
    assert "proxy" in text  # NI 20's RAG is marked as the report marks it
    # The commentary, as text (the "<" and "&" are the analyst's words, not markup), in the exceptions too.
    assert text.count("Burglary series in Shrewsbury & <Oswestry>; Operation Lock under way.") == 2
    assert "Two prolific offenders recalled to prison." in text
    exceptions = text[text.index("Exceptions"):text.index("The indicators")]
    assert "Red" in exceptions and "No commentary written." in exceptions
    # The trend chart is drawn in the PDF: its axis names the first month of the series (October).
    assert "Oct 2018" in text


@pytest.mark.both_databases
def test_an_issued_pack_is_downloaded_exactly_as_issued_after_the_data_and_commentary_change(
        app, backend, as_role):
    analyst = as_role("analyst")
    page = analyst.get("/pack/2018-11/commentary/" + SAC + "?locality=south")
    assert page.status_code == 200
    saved = analyst.post(f"/pack/2018-11/commentary/{SAC}",
                         {"locality": "south", "text": "Rural thefts of quad bikes."})
    assert saved.status_code == 302
    issued = analyst.post("/pack/2018-11/issue", {})
    assert issued.status_code == 302
    pack = db.session.execute(select(IssuedPack).filter_by(month=NOV)).scalar_one()
    first = analyst.get(f"/pack/issued/{pack.id}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert "Rural thefts of quad bikes." in pdf_text(first.data)

    # The data moves on: a new target, and an attempt to rewrite the issued month's commentary.
    indicators.edit_definition(indicator(SAC), by=person("analyst"), reason="Revised by the PMCG", target=20.0)
    db.session.commit()
    refused = analyst.post(f"/pack/2018-11/commentary/{SAC}", {"locality": "south", "text": "Rewritten afterwards"})
    assert refused.status_code == 409
    assert "its commentary can no longer change" in text_of(refused)
    with pytest.raises(ConflictError):
        comment(SAC, "shropshire", "Rewritten by the service")
    db.session.rollback()  # as the error handler does: the refused unit of work ends, and its lock with it
    assert analyst.post("/pack/2018-11/issue", {}).status_code == 409  # issued once

    assert "20.00" in text_of(analyst.get("/pack/2018-11"))  # the page shows today's target...
    again = analyst.get(f"/pack/issued/{pack.id}.pdf")
    assert again.data == first.data  # ...the issued pack does not change
    assert hashlib.sha256(again.data).hexdigest() == pack.sha256
    assert "20.00" not in pdf_text(again.data) and "Rewritten" not in pdf_text(again.data)
    assert db.session.execute(select(PackCommentary).filter_by(text="Rewritten afterwards")).first() is None


def test_commentary_keeps_every_edit_with_who_and_when_and_the_pack_shows_the_latest(app, as_role):
    comment(SAC, "central", "First draft of the note.")
    comment(SAC, "central", "Second thoughts on the note.", by="admin")
    same = comment(SAC, "central", "Second thoughts on the note.", by="admin")  # unchanged: no new entry
    history = services.commentary_history(indicator(SAC).id, NOV)
    assert [(n.text, n.written_by.email) for n in history] == [
        ("Second thoughts on the note.", DEMO_EMAILS["admin"]), ("First draft of the note.", DEMO_EMAILS["analyst"])]
    assert same.id == history[0].id and all(n.written_at for n in history)
    analyst = as_role("analyst")
    page = text_of(analyst.get(f"/pack/2018-11/commentary/{SAC}"))
    assert "First draft of the note." in page and "Second thoughts on the note." in page
    draft = text_of(analyst.get("/pack/2018-11"))
    assert "Second thoughts on the note." in draft and "First draft of the note." not in draft
    assert "Second thoughts" not in text_of(analyst.get("/pack/2018-10"))  # a note belongs to its month


def test_commentary_refuses_what_it_cannot_keep_and_names_the_field(app, as_role):
    analyst = as_role("analyst")
    empty = analyst.post(f"/pack/2018-11/commentary/{SAC}", {"locality": "north", "text": "  "})
    assert empty.status_code == 400 and 'href="#text"' in empty.get_data(as_text=True)
    assert "Enter the commentary" in text_of(empty)
    long = analyst.post(f"/pack/2018-11/commentary/{SAC}", {"locality": "north", "text": "x" * 2001})
    assert long.status_code == 400 and "2,000 characters or fewer" in text_of(long)
    nowhere = analyst.post(f"/pack/2018-11/commentary/{SAC}", {"locality": "ludlow", "text": "A ward"})
    assert nowhere.status_code == 400
    with pytest.raises(PortalError) as error:
        comment(SAC, "ludlow", "Only the county and its areas are in the pack")
    assert error.value.field == "locality"
    assert analyst.get("/pack/2017-01").status_code == 404  # no figures that month
    assert analyst.get("/pack/2018-11/commentary/no-such-indicator").status_code == 404
    assert db.session.execute(select(PackCommentary)).first() is None


def test_exceptions_are_every_red_and_every_newly_amber(app):
    assert services.exception_reason("Red", "Red", "Oct 2018") == "Red"
    assert services.exception_reason("Amber", "Green", "Oct 2018") == "Newly Amber (Green in Oct 2018)"
    assert services.exception_reason("Amber", None, "Oct 2018") == "Newly Amber (no RAG in Oct 2018)"
    assert services.exception_reason("Amber", "Amber", "Oct 2018") == ""
    assert services.exception_reason("Green", "Red", "Oct 2018") == ""

    def county_reason():
        found = [e.reason for e in services.pack_contents(NOV).exceptions
                 if e.locality.key == "shropshire" and e.row.indicator.code == SAC]
        return found[0] if found else None

    assert county_reason() == "Red"
    rows = {m: next(r for r in indicators.report("monthly", m, place("shropshire")) if r.indicator.code == SAC)
            for m in (OCT, NOV)}
    gap = {m: (r.annualised - r.expected) / r.expected * 100 for m, r in rows.items()}
    assert gap[NOV] < gap[OCT]  # November is nearer its trajectory than October: a tolerance between them...
    sac = indicator(SAC)
    indicators.edit_definition(sac, by=person("analyst"), reason="test", amber_tolerance=(gap[NOV] + gap[OCT]) / 2)
    assert county_reason() == "Newly Amber (Red in Oct 2018)"  # ...makes November newly Amber
    indicators.edit_definition(sac, by=person("analyst"), reason="test", amber_tolerance=gap[OCT] + 5)
    assert county_reason() is None  # Amber in both months: reported when it first turned Amber


def test_who_may_open_write_and_issue_the_pack(app, as_role, browser):
    comment(SAC, "shropshire", "Only staff read this note.")
    with pytest.raises(NotAllowed):
        services.write_commentary(by=person("officer"), indicator_id=indicator(SAC).id,
                                  locality_id=place("north").id, month=NOV, text="An officer's note")
    with pytest.raises(NotAllowed):
        services.issue_pack(by=person("partner"), month=NOV)
    pack = services.issue_pack(by=person("admin"), month=NOV)
    db.session.commit()
    download = f"/pack/issued/{pack.id}.pdf"

    officer = as_role("officer")  # officers read the drafts and the issued packs...
    assert officer.get("/pack/").status_code == 200 and officer.get("/pack/2018-11").status_code == 200
    assert officer.get(download).data == pack.pdf
    assert "Issue the pack" not in text_of(officer.get("/pack/2018-10"))
    # ...but neither write nor issue
    assert officer.post(f"/pack/2018-10/commentary/{SAC}", {"locality": "north", "text": "x"}).status_code == 403
    assert officer.post("/pack/2018-10/issue", {}).status_code == 403
    assert services.issued_pack(OCT) is None

    partner = as_role("partner")  # partners are refused the pack altogether
    for url in ("/pack/", "/pack/2018-11", download, f"/pack/2018-11/commentary/{SAC}"):
        response = partner.get(url)
        assert response.status_code == 403 and "Only staff read this note." not in response.get_data(as_text=True)
    with pytest.raises(NotAllowed):
        services.issued_pdf(pack.id, by=person("partner"))
    anonymous = browser.get(download)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    analyst = as_role("analyst")
    assert "Issue the pack for Oct 2018" in text_of(analyst.get("/pack/2018-10"))
    assert "Download the pack as issued" in text_of(analyst.get("/pack/2018-11"))


def test_an_issue_without_its_csrf_token_is_refused(app, as_role):
    analyst = as_role("analyst")
    assert analyst.post("/pack/2018-11/issue", {}, csrf=False).status_code == 400
    assert services.issued_pack(NOV) is None


def test_with_no_distribution_list_the_pack_waits_to_be_announced(app):
    pack = services.issue_pack(by=person("analyst"), month=NOV)
    app.config["PMCG_DISTRIBUTION"] = ""
    assert services.notify_issued_packs() == 0 and pack.notified_at is None
    app.config["PMCG_DISTRIBUTION"] = "chair.pmcg@shropshire.example"
    assert services.notify_issued_packs() == 1 and pack.notified_at is not None
    assert services.notify_issued_packs() == 0
