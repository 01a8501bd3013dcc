"""Officers record PACT meetings and concerns; the lifecycle, the register and Table 1."""
import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.concerns import services
from portal.concerns.models import Concern, ConcernCategory, ConcernEvent, PactMeeting
from portal.config import ROOT
from portal.extensions import db
from portal.places.models import Locality

from ..conftest import text_of

SOURCE = ROOT / "seed" / "source" / "shropshire_sscp_delivery_plan_2010_11.txt"  # copied from shared/source-docs


def locality(key):
    return db.session.execute(select(Locality).filter_by(key=key)).scalar_one()


def category(name):
    return db.session.execute(select(ConcernCategory).filter_by(name=name)).scalar_one()


GRAFFITI, BURGLARY, DRINKING = ("ENVIRONMENTAL - GRAFFITI", "CRIME - BURGLARY", "ALCOHOL RELATED - UNDER AGE DRINKING")


def meeting_form(where, rows, **extra):
    data = {"locality": str(locality(where).id), "held_on": "12/03/2010", "venue": "Wem Town Hall",
            "attendance": "23", "notes": "Chair: Cllr Smith"}
    for i, row in enumerate(rows):
        data.update({f"concerns-{i}-{k}": v for k, v in row.items()})
    data.update(extra)
    return data


def concern_row(name, said, count="1", priority=False, **extra):
    row = {"category": str(category(name).id), "you_said": said, "raised_count": count}
    if priority:
        row["is_priority"] = "y"
    row.update(extra)
    return row


def test_an_officer_records_a_meeting_with_three_concerns(app, as_role):
    officer = as_role("officer")
    assert officer.get("/concerns/meetings/new").status_code == 200
    before = db.session.execute(select(func.count()).select_from(Concern)).scalar_one()
    response = officer.post("/concerns/meetings/new", meeting_form("wem", [
        concern_row(GRAFFITI, "Graffiti on the bus shelter on the High Street", "4", priority=True,
                    street="High Street", internal_notes="Tag matches the one in Shawbury"),
        concern_row(BURGLARY, "Sheds broken into on the allotments", "2", priority=True,
                    lat="52.8561", lon="-2.7245"),
        concern_row(DRINKING, "Teenagers drinking in the churchyard on Friday nights", "6"),
    ]))
    assert response.status_code == 302, text_of(response)[:2000]
    meeting = db.session.execute(select(PactMeeting).order_by(PactMeeting.id.desc())).scalars().first()
    assert meeting.locality.name == "Wem" and meeting.attendance == 23 and meeting.held_on == date(2010, 3, 12)
    assert [c.category.name for c in meeting.concerns] == [GRAFFITI, BURGLARY, DRINKING]
    assert [c.is_priority for c in meeting.concerns] == [True, True, False]
    assert meeting.concerns[1].lat == pytest.approx(52.8561)
    assert db.session.execute(select(func.count()).select_from(Concern)).scalar_one() == before + 3
    page = text_of(officer.get(response.headers["Location"]))
    assert "Teenagers drinking in the churchyard" in page and "Graffiti on the bus shelter" in page
    concern_page = text_of(officer.get(f"/concerns/{meeting.concerns[0].id}"))
    assert "PC Olivia Officer" in concern_page and "Tag matches the one in Shawbury" in concern_page


def test_a_meeting_agrees_at_most_three_priorities_and_nothing_is_saved(app, as_role):
    officer = as_role("officer")
    before = db.session.execute(select(func.count()).select_from(Concern)).scalar_one()
    rows = [concern_row(name, f"Concern {i}", priority=True)
            for i, name in enumerate((GRAFFITI, BURGLARY, DRINKING, "ENVIRONMENTAL - FLY TIPPING"))]
    response = officer.post("/concerns/meetings/new", meeting_form("wem", rows))
    assert response.status_code == 400
    assert "A meeting agrees at most 3 priorities" in text_of(response)
    assert db.session.execute(select(func.count()).select_from(Concern)).scalar_one() == before
    assert db.session.execute(select(func.count()).select_from(PactMeeting).where(
        PactMeeting.venue == "Wem Town Hall")).scalar_one() == 0


def test_a_row_without_its_text_is_named_and_the_values_are_kept(app, as_role):
    officer = as_role("officer")
    response = officer.post("/concerns/meetings/new", meeting_form("wem", [
        concern_row(GRAFFITI, "Graffiti on the bus shelter"),
        concern_row(BURGLARY, ""),
    ], held_on="31/02/2010"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#concerns-1-you_said"' in html and "Enter what residents said" in html
    assert "Graffiti on the bus shelter" in html  # what the officer typed is still there
    assert "Not a valid date value" in html or "Enter the date of the meeting" in html


def test_an_officer_cannot_log_concerns_outside_their_areas(app, as_role):
    officer = as_role("officer")  # North area
    response = officer.post("/concerns/meetings/new", meeting_form("ludlow", [concern_row(GRAFFITI, "Graffiti")]))
    assert response.status_code == 400
    assert db.session.execute(select(PactMeeting).filter_by(venue="Wem Town Hall")).first() is None


def test_a_repeat_concern_is_offered_for_linking_instead_of_a_duplicate(app, as_role):
    officer = as_role("officer")
    officer.post("/concerns/meetings/new", meeting_form("wem", [concern_row(GRAFFITI, "Graffiti on the shelter", "3")]))
    original = db.session.execute(select(Concern).filter_by(you_said="Graffiti on the shelter")).scalar_one()
    second = meeting_form("wem", [concern_row(GRAFFITI, "More graffiti, now on the library", "2")],
                          held_on="09/04/2010")
    response = officer.post("/concerns/meetings/new", second)
    assert response.status_code == 400
    page = text_of(response)
    assert "Wem already has an open concern about environmental - graffiti" in page
    assert "Graffiti on the shelter" in page
    response = officer.post("/concerns/meetings/new", second | {"concerns-0-repeat": f"link:{original.id}"})
    assert response.status_code == 302
    db.session.refresh(original)
    assert original.raised_count == 5
    assert db.session.execute(select(func.count()).select_from(Concern).filter_by(category_id=original.category_id,
                                                                                 locality_id=original.locality_id)
                              ).scalar_one() == 1
    assert "More graffiti, now on the library" in text_of(officer.get(f"/concerns/{original.id}"))


def test_the_lifecycle_is_audited_and_published_we_did_needs_text(app, as_role):
    officer = as_role("officer")
    officer.post("/concerns/meetings/new", meeting_form("wem", [concern_row(GRAFFITI, "Graffiti on the shelter")]))
    concern = db.session.execute(select(Concern).filter_by(you_said="Graffiti on the shelter")).scalar_one()
    url = f"/concerns/{concern.id}"

    def move(status, **data):
        db.session.refresh(concern)
        return officer.post(f"{url}/status", {"status": status, "version": str(concern.version_id)} | data)

    assert move("accepted").status_code == 302
    response = move("responded", we_did="")
    assert response.status_code == 400 and "Enter what was done" in text_of(response)
    assert move("responded", we_did="Council cleansing removed the graffiti within a week").status_code == 302
    db.session.refresh(concern)
    assert officer.post(f"{url}/publish", {"version": str(concern.version_id)}).status_code == 302
    db.session.refresh(concern)
    assert concern.status == "responded" and concern.published and concern.responded_on == date.today()
    events = db.session.execute(select(ConcernEvent).filter_by(concern_id=concern.id)
                                .order_by(ConcernEvent.id)).scalars().all()
    assert [e.kind for e in events] == ["created", "status", "status", "published"]
    assert all(e.by.display_name == "PC Olivia Officer" for e in events)
    history = text_of(officer.get(url))
    assert "accepted → responded" in history
    response = move("new")  # not a step of the lifecycle from "responded"
    assert response.status_code == 400


def test_no_further_action_needs_a_reason(app, as_role):
    officer = as_role("officer")
    officer.post("/concerns/meetings/new", meeting_form("wem", [concern_row(GRAFFITI, "Graffiti on the shelter")]))
    concern = db.session.execute(select(Concern).filter_by(you_said="Graffiti on the shelter")).scalar_one()
    response = officer.post(f"/concerns/{concern.id}/status", {"status": "no_further_action", "reason": "",
                                                               "version": str(concern.version_id)})
    assert "Give the reason for no further action" in text_of(response)
    db.session.refresh(concern)
    assert concern.status == "new"


def test_a_stale_form_does_not_overwrite_a_newer_change(app, as_role):
    officer = as_role("officer")
    officer.post("/concerns/meetings/new", meeting_form("wem", [concern_row(GRAFFITI, "Graffiti on the shelter")]))
    concern = db.session.execute(select(Concern).filter_by(you_said="Graffiti on the shelter")).scalar_one()
    old_version = str(concern.version_id)
    admin = as_role("admin")
    assert admin.post(f"/concerns/{concern.id}/status",
                      {"status": "accepted", "version": old_version}).status_code == 302
    response = officer.post(f"/concerns/{concern.id}/status", {"status": "no_further_action",
                                                               "reason": "Duplicate", "version": old_version})
    assert response.status_code == 400
    assert "Someone else changed this concern while you were reading it" in text_of(response)
    db.session.refresh(concern)
    assert concern.status == "accepted"


def test_only_officers_of_the_area_or_admins_change_a_concern(app, as_role):
    south = db.session.execute(select(Concern).join(Concern.locality).where(Locality.key == "ludlow")).scalars().first()
    officer, analyst, partner = as_role("officer"), as_role("analyst"), as_role("partner")
    response = officer.post(f"/concerns/{south.id}/status", {"status": "closed", "version": str(south.version_id)})
    assert response.status_code == 403
    assert analyst.get(f"/concerns/{south.id}").status_code == 200
    assert analyst.post(f"/concerns/{south.id}/status", {"status": "closed"}).status_code == 403
    assert partner.get(f"/concerns/{south.id}").status_code == 403  # not linked to any task of theirs
    assert "Change the status" not in text_of(officer.get(f"/concerns/{south.id}"))


def test_the_register_filters_counts_and_exports_what_it_shows(app, as_role):
    analyst = as_role("analyst")
    north = locality("north")
    speeding = category("VEHICLE RELATED - SPEEDING TRAFFIC")
    query = f"?area={north.id}&category={speeding.id}&date_from=01/10/2008&date_to=30/09/2009"
    expected = db.session.execute(
        select(Concern).where(Concern.category_id == speeding.id,
                              Concern.locality_id.in_(select(Locality.id).where(Locality.parent_id == north.id)))
    ).scalars().all()
    page = text_of(analyst.get("/concerns/" + query))
    assert f"{len(expected)} concerns match" in page
    response = analyst.get("/concerns/export.csv" + query)
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(int(r["id"]) for r in rows) == sorted(c.id for c in expected)
    assert {r["area"] for r in rows} == {"North"}


def test_an_officer_lands_on_their_areas_open_concerns(app, as_role):
    officer = as_role("officer")
    response = officer.post("/logout")
    response = officer.post("/login", {"email": "officer@demo.shropshire-csp.example.org",
                                       "password": "shropshire-demo-2010"})
    assert response.headers["Location"].endswith("/concerns/?mine=1")
    page = text_of(officer.get("/concerns/?mine=1"))
    assert "My areas' open concerns" in page
    open_north = db.session.execute(select(func.count()).select_from(Concern).join(Concern.locality).where(
        Locality.parent_id == locality("north").id, Concern.status.in_(("new", "accepted", "in_progress")))
    ).scalar_one()
    assert f"{open_north} concern" in page


def source_table_one():
    """Table 1 as printed in the source document: {column heading: [rank 1, 2, 3]}."""
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    start = lines.index("**(Table 1)**") + 2
    heads = lines[start].split("\t")
    rows = [line.split("\t") for line in lines[start + 1:start + 4]]
    return {head: [row[i] for row in rows] for i, head in enumerate(heads)}


@pytest.mark.both_databases
def test_table_one_is_reproduced_from_the_demo_pact_concerns(app, backend):
    if not SOURCE.exists():
        pytest.fail(f"the source document is missing: {SOURCE}")
    expected = source_table_one()
    table = services.table_one(date(2008, 10, 1), date(2009, 9, 30))
    got = {(loc.name if loc.level == "county" else f"{loc.name} Area"): [r.name for r in rows] for loc, rows in table}
    assert got == expected


def test_table_one_page_shows_the_ranks(as_role):
    page = as_role("analyst").get("/concerns/top-categories?date_from=01/10/2008&date_to=30/09/2009")
    html = page.get_data(as_text=True)
    table = html[html.index('id="table-1"'):]
    first_row = re.search(r"<th scope=\"row\"[^>]*>1</th>(.*?)</tr>", table, re.S).group(1)
    assert ("VEHICLE RELATED - SPEEDING TRAFFIC" in first_row
            and "YOUTH RELATED - YOUTHS INAPPROPRIATE GATHERING" in first_row)


def test_admin_adds_and_retires_a_category(app, as_role):
    admin = as_role("admin")
    assert admin.post("/concerns/categories", {"group": "Environment", "name": "Environmental - overgrown hedges"}
                      ).status_code == 302
    new = category("ENVIRONMENTAL - OVERGROWN HEDGES")
    officer = as_role("officer")
    assert "ENVIRONMENTAL - OVERGROWN HEDGES" in officer.get("/concerns/meetings/new").get_data(as_text=True)
    assert admin.post(f"/concerns/categories/{new.id}/retire").status_code == 302
    assert "ENVIRONMENTAL - OVERGROWN HEDGES" not in officer.get("/concerns/meetings/new").get_data(as_text=True)
    response = admin.post("/concerns/categories", {"group": "ASB", "name": "asb - other"})
    assert "There is already a category called ASB - OTHER" in text_of(response)


def test_add_another_concern_adds_a_row_without_saving(app, as_role):
    officer = as_role("officer")
    data = meeting_form("wem", [concern_row(GRAFFITI, "Graffiti on the shelter")] + [{}] * 2) | {"add_row": "1"}
    response = officer.post("/concerns/meetings/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="concerns-3-you_said"' in html and "Graffiti on the shelter" in html
    assert db.session.execute(select(PactMeeting).filter_by(venue="Wem Town Hall")).first() is None


def test_a_meeting_needs_at_least_one_concern(app, as_role):
    response = as_role("officer").post("/concerns/meetings/new", meeting_form("wem", []))
    assert response.status_code == 400
    assert "Add at least one concern raised at the meeting" in text_of(response)
    assert db.session.execute(select(PactMeeting).filter_by(venue="Wem Town Hall")).first() is None


def test_a_concern_from_a_partner_referral(app, as_role):
    officer = as_role("officer")
    response = officer.post("/concerns/new", {
        "source": "partner_referral", "raised_on": "02/02/2010", "category": str(category(BURGLARY).id),
        "you_said": "Housing officer reports a run of shed break-ins", "locality": str(locality("oswestry").id),
        "raised_count": "1"})
    assert response.status_code == 302
    concern = db.session.execute(select(Concern).filter_by(you_said="Housing officer reports a run of shed break-ins")
                                 ).scalar_one()
    assert concern.source == "partner_referral" and concern.pact_meeting is None
    assert "Partner referral" in text_of(officer.get(f"/concerns/{concern.id}"))
