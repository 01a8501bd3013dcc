"""What residents see: published concerns only, public texts only, generalised points; open data."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.access import PUBLIC, rule_for
from portal.concerns.models import Concern, ConcernCategory, ConcernEvent, PactMeeting
from portal.extensions import db
from portal.people.models import User
from portal.places.models import Locality

from ..conftest import text_of

MARK = "ZQX7731"  # in every private field; must never reach a public response


def locality(key):
    return db.session.execute(select(Locality).filter_by(key=key)).scalar_one()


def category(name):
    return db.session.execute(select(ConcernCategory).filter_by(name=name)).scalar_one()


@pytest.fixture
def private_data(app):
    """A published concern whose every private field carries the marker, and an unpublished one."""
    user = User(email=f"officer.{MARK.lower()}@example.org", display_name=f"PC {MARK}", role="officer")
    user.set_password("a-long-enough-password")
    ludlow = locality("ludlow")
    meeting = PactMeeting(locality=ludlow, held_on=date(2010, 3, 2), venue=f"Venue {MARK}", notes=f"Notes {MARK}",
                          next_meeting_on=date(2099, 4, 6), next_meeting_venue="Ludlow Assembly Rooms")
    published = Concern(locality=ludlow, category=category("ENVIRONMENTAL - DOG FOULING"), source="pact",
                        pact_meeting=meeting, raised_on=date(2010, 3, 2), you_said="Dog mess along Corve Street",
                        internal_notes=f"Complainant Mrs {MARK} at number 12", street=f"12 {MARK} Street",
                        lat=52.3712345, lon=-2.7187654, status="responded", we_did="Dog warden patrols at school times",
                        responded_on=date(2010, 3, 20), published=True, status_reason=f"Reason {MARK}")
    published.created_by_id = None
    unpublished = Concern(locality=ludlow, category=category("CRIME - BURGLARY"), source="resident_contact",
                          raised_on=date(2010, 3, 3), you_said=f"Unpublished {MARK}", status="new")
    db.session.add_all([user, meeting, published, unpublished])
    db.session.flush()
    published.created_by_id = user.id
    db.session.add(ConcernEvent(concern=published, kind="status", by_id=user.id, detail=f"Event {MARK}"))
    # The PMCG pack's commentary is for staff only.
    from portal.pack.models import PackCommentary
    from portal.plan.models import IndicatorDefinition

    db.session.add(PackCommentary(indicator_id=db.session.execute(select(IndicatorDefinition.id)).scalars().first(),
                                  locality_id=locality("shropshire").id,
                                  period_type="month", period_start=date(2018, 11, 1), text=f"Commentary {MARK}",
                                  written_by_id=user.id))
    db.session.commit()
    return published


FOLLOWER_EMAIL = f"resident.{MARK.lower()}@example.org"


def follower_token(endpoint):
    """A working link of a resident following Ludlow, whose address carries the marker (made once)."""
    from portal.following import services as following
    from portal.following.models import Follower

    follower = db.session.execute(select(Follower).filter_by(email=FOLLOWER_EMAIL)).scalar_one_or_none()
    if follower is None:
        following.request_follow(FOLLOWER_EMAIL, locality("ludlow"))
        follower = db.session.execute(select(Follower).filter_by(email=FOLLOWER_EMAIL)).scalar_one()
        following.confirm(following.confirmation_token(follower, locality("ludlow")))
        db.session.commit()
    if endpoint == "following.unsubscribe":
        return following.unsubscribe_token(follower)
    return following.confirmation_token(follower, locality("ludlow"))


def public_urls(app, concern):
    """Every public URL rule, with real arguments, plus the filtered and searched variants."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or PUBLIC not in (rule_for(rule.endpoint) or ()):
                continue
            if "GET" not in rule.methods:
                continue
            args = {"concern_id": concern.id, "key": "ludlow", "token": "not-a-token"}
            if "token" in rule.arguments and rule.endpoint.startswith("following."):
                args["token"] = follower_token(rule.endpoint)  # a follower's confirmation and unsubscribe pages
            urls.append(url_for(rule.endpoint, **{a: args[a] for a in rule.arguments}))
        urls += [url_for("public.you_said_we_did", q="Ludlow"), url_for("public.map_page", area="south"),
                 url_for("public.map_points", area="south"), url_for("public.locality", key="south"),
                 url_for("public.neighbourhood_priorities", key="shropshire"),
                 url_for("public.open311_requests", status="closed"),
                 url_for("following.feeds.atom", key="shropshire"), url_for("following.feeds.calendar", key="south"),
                 url_for("following.feeds.meetings", key="south")]
    return urls


def test_no_private_field_reaches_any_public_page_or_api(app, browser, private_data):
    urls = public_urls(app, private_data)
    assert len(urls) >= 15
    checked = 0
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert MARK not in body and MARK.lower() not in body, f"a private field or address leaked into {url}"
        assert "3712345" not in body and "7187654" not in body, f"the exact point leaked into {url}"
        checked += 1
    page = browser.get("/you-said-we-did?q=Ludlow").get_data(as_text=True)
    assert "Dog mess along Corve Street" in page and "Dog warden patrols at school times" in page
    assert checked == len(urls)


def test_a_concern_raised_online_never_shows_its_email_or_exact_point_on_any_public_url(app, browser, as_role):
    """The leak test for residents' own concerns (portal/reporting): published, answered, still private."""
    from portal.reporting.models import OnlineReport

    email = f"resident.{MARK}@example.org"
    assert browser.get("/raise-a-concern/").status_code == 200
    sent = browser.post("/raise-a-concern/", {
        "category": str(category("ENVIRONMENTAL - DOG FOULING").id), "you_said": "Dog mess by the castle walls",
        "lat": "52.3728123", "lon": "-2.7064321", "email": email})
    assert sent.status_code == 302
    concern = db.session.execute(select(Concern).filter_by(you_said="Dog mess by the castle walls")).scalar_one()
    assert concern.lat == 52.3728123 and concern.locality.name == "Ludlow East"
    admin = as_role("admin")
    admin.post(f"/concerns/{concern.id}/status", {"status": "responded", "version": str(concern.version_id),
                                                  "we_did": "Dog warden patrols by the castle"})
    db.session.refresh(concern)
    assert admin.post(f"/concerns/{concern.id}/publish", {"version": str(concern.version_id)}).status_code == 302
    assert db.session.execute(select(OnlineReport).filter_by(concern_id=concern.id)).scalar_one().email == email
    urls = public_urls(app, concern) + ["/you-said-we-did?q=Ludlow+East", "/api/concerns.csv?q=Ludlow",
                                        "/api/concerns.geojson?q=Ludlow", "/places/e05008166"]
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert MARK not in body, f"the reporter's email leaked into {url}"
        assert "3728123" not in body and "7064321" not in body, f"the exact point leaked into {url}"
    assert "Dog mess by the castle walls" in browser.get("/api/concerns.csv?q=Ludlow").get_data(as_text=True)
    # Staff never need the address either: the portal writes to the resident itself.
    for url in (f"/concerns/{concern.id}", "/concerns/export.csv?source=resident_online"):
        response = admin.get(url)
        assert response.status_code == 200 and "castle walls" in response.get_data(as_text=True), url
        assert MARK not in response.get_data(as_text=True), url


def test_points_are_snapped_to_the_locality_centre(app, browser, private_data):
    record = browser.get(f"/api/concerns/{private_data.id}.json").get_json()
    ludlow = locality("ludlow")
    assert (record["lat"], record["lon"]) == (round(ludlow.centre_lat, 5), round(ludlow.centre_lon, 5))
    geo = browser.get("/api/concerns.geojson?q=Ludlow").get_json()
    feature = next(f for f in geo["features"] if f["id"] == private_data.id)
    assert feature["geometry"]["coordinates"] == [record["lon"], record["lat"]]


def test_unpublished_concerns_stay_private_and_no_further_action_shows_its_public_reason_only(
        app, browser, private_data):
    hidden = db.session.execute(select(Concern).filter_by(you_said=f"Unpublished {MARK}")).scalar_one()
    assert browser.get(f"/api/concerns/{hidden.id}.json").status_code == 404
    assert browser.get(f"/open311/v2/requests/{hidden.id}.json").status_code == 404
    private_data.status, private_data.status_reason = "no_further_action", f"Duplicate {MARK}"
    private_data.public_reason = "The dog warden found the owner and the fouling stopped"
    db.session.commit()
    record = browser.get(f"/api/concerns/{private_data.id}.json").get_json()
    assert record["status"] == "no_further_action" and record["status_label"] == "No further action"
    assert record["reason"] == "The dog warden found the owner and the fouling stopped"
    assert MARK not in browser.get(f"/api/concerns/{private_data.id}.json").get_data(as_text=True)


def test_neighbourhood_priorities_use_the_police_uk_shape(browser, private_data):
    rows = browser.get("/api/neighbourhoods/ludlow/priorities.json").get_json()
    row = next(r for r in rows if r["issue"] == "Dog mess along Corve Street")
    assert row == {"issue": "Dog mess along Corve Street", "issue-date": "2010-03-02",
                   "action": "Dog warden patrols at school times", "action-date": "2010-03-20"}
    assert browser.get("/api/neighbourhoods/atlantis/priorities.json").status_code == 404


def test_the_locality_page_shows_pairs_and_the_next_pact_meeting(browser, private_data):
    page = text_of(browser.get("/places/ludlow"))
    assert "Dog mess along Corve Street" in page and "Dog warden patrols at school times" in page
    assert "6 Apr 2099, Ludlow Assembly Rooms" in page


def test_residents_find_places_by_other_spellings(browser):
    page = text_of(browser.get("/you-said-we-did?q=Bishops+Castle"))
    assert "Places matching “Bishops Castle”: Bishop's Castle" in page.replace("&#39;", "'")
    assert "No town, village or ward called “Atlantis”" in text_of(browser.get("/you-said-we-did?q=Atlantis"))


def test_the_list_filters_by_area_and_pages(app, browser):
    south = text_of(browser.get("/you-said-we-did?area=south"))
    total = int(re.search(r"([\d,]+) published concern", south).group(1))
    expected = db.session.execute(select(Concern).join(Concern.locality).where(
        Concern.published.is_(True), Locality.parent_id == locality("south").id)).scalars().all()
    assert total == len(expected) > 0
    assert "Ludlow" in south


def test_open311_lists_services_and_requests(app, browser, private_data):
    services = browser.get("/open311/v2/services.json").get_json()
    dog = next(s for s in services if s["description"] == "ENVIRONMENTAL - DOG FOULING")
    closed = browser.get(f"/open311/v2/requests.json?status=closed&service_code={dog['service_code']}").get_json()
    mine = next(r for r in closed if r["service_request_id"] == str(private_data.id))
    assert mine["status_notes"] == "Dog warden patrols at school times" and mine["address"] == "Ludlow"
    assert all(r["status"] == "closed" and r["service_code"] == dog["service_code"] for r in closed)
    one = browser.get(f"/open311/v2/requests/{private_data.id}.json").get_json()
    assert one[0]["description"] == "Dog mess along Corve Street"
    bad = browser.get("/open311/v2/requests.json?start_date=yesterday")
    assert bad.status_code == 400 and "start_date must be a W3C date-time" in bad.get_json()[0]["description"]


def test_the_openapi_description_covers_every_public_api(app, browser):
    doc = browser.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    rules = {re.sub(r"<(?:int:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()
             if r.rule.startswith(("/api/", "/open311/")) and r.rule != "/api/openapi.json"}
    rules = {r.replace("{concern_id}", "{id}") for r in rules}
    assert rules == set(doc["paths"])


def test_the_map_page_loads_nothing_from_a_cdn(browser):
    html = browser.get("/map").get_data(as_text=True)
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == [] or all("openstreetmap.org/copyright" in u for u in external)
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/jquery/jquery.min.js" in html
    assert "cdn" not in html.lower()


def test_published_concerns_reach_the_map_points(app, browser, private_data):
    points = browser.get("/api/map-points.json?area=south").get_json()["points"]
    ids = {item[0]: item[1] for _, _, items in points for item in items}
    assert ids[private_data.id] == "responded"
    north = browser.get("/api/map-points.json?area=north").get_json()["points"]
    assert private_data.id not in {item[0] for _, _, items in north for item in items}


# ---- the public page cache holds nothing of the person who drew the page -----------------------

CACHED_PUBLIC_URLS = ("/map", "/map?area=south", "/map?q=Ludlow&area=south", "/api/map-points.json",
                      "/api/map-points.json?area=south")


@pytest.mark.parametrize("first", ("officer", "admin"))
def test_a_resident_never_gets_the_page_a_signed_in_user_drew(app, as_role, browser, first):
    staff = as_role(first)
    name = db.session.execute(select(User.display_name).filter_by(role=first)
                              .where(User.email.like("%@demo.%"))).scalar_one()
    tokens = set()
    for url in CACHED_PUBLIC_URLS:
        response = staff.get(url)
        assert response.status_code == 200, url
        tokens |= set(re.findall(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)))
    assert tokens, "the signed-in user's pages carry their sign-out form"
    assert name in text_of(staff.get("/map"))
    for url in CACHED_PUBLIC_URLS:
        body = browser.get(url).get_data(as_text=True)
        assert name not in body, f"{url} showed the signed-in user's name to a resident"
        assert "Sign out" not in body and 'href="/concerns/' not in body and "/logout" not in body, url
        assert not any(token in body for token in tokens), f"{url} carried the user's CSRF token"
        assert 'name="csrf_token"' not in body, url
    assert "Sign in" in text_of(browser.get("/map"))


def test_a_signed_in_user_never_gets_the_page_a_resident_drew(app, as_role, browser):
    assert "Sign in" in text_of(browser.get("/map?area=north"))
    page = text_of(as_role("officer").get("/map?area=north"))
    assert "PC Olivia Officer" in page and "Sign out" in page and "Concerns" in page


# ---- locality names are data, never template code or HTML, on every map -----------------------

HOSTILE_NAME = "Quarry {{7*7}} ${6*7} `x` <img src=x onerror=alert(1)>"
ASSESSMENT = "/crime/assessment?end=2018-11&length=1&compare=previous"


@pytest.fixture
def hostile_ward(app):
    """The ward with the most recorded crime (so it is on the assessment's map) renamed by a careless admin."""
    ward = locality("e05008180")
    ward.name = HOSTILE_NAME
    db.session.commit()
    return ward


def test_a_locality_name_is_shown_literally_and_never_run_on_any_map(app, browser, as_role, hostile_ward):
    officer = as_role("officer")
    pages = {"/map": browser, "/map?area=central": browser, f"/places/{hostile_ward.key}": browser,
             "/places/shrewsbury": browser, ASSESSMENT: officer}
    for url, person in pages.items():
        response = person.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "<img src=x" not in html.lower(), f"the name's <img> tag reached {url} as HTML"
        for evaluated in ("Quarry 49", "49 $", "{6*7} 42", "${6*7}` 42", " 42 `x`"):
            assert evaluated not in html, f"the name was run as a template on {url}"
    assert HOSTILE_NAME in text_of(browser.get(f"/places/{hostile_ward.key}"))
    assert "Quarry" in officer.get(ASSESSMENT).get_data(as_text=True)


# ---- one model shapes every public record and the OpenAPI schema --------------------------------

def test_the_openapi_schema_is_the_public_concern_model_and_the_records_it_shapes(app, browser, private_data):
    from portal.public.record import PublicConcern

    doc = browser.get("/api/openapi.json").get_json()
    schema = doc["paths"]["/api/concerns/{id}.json"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == set(PublicConcern.model_fields)
    assert schema["additionalProperties"] is False
    record = browser.get(f"/api/concerns/{private_data.id}.json").get_json()
    assert set(record) == set(PublicConcern.model_fields)
    feature = browser.get("/api/concerns.geojson?q=Ludlow").get_json()["features"][0]
    assert set(feature["properties"]) | {"lat", "lon"} == set(PublicConcern.model_fields)


def test_a_record_built_from_a_concern_with_private_data_everywhere_holds_none_of_it(app, private_data):
    import json

    from pydantic import ValidationError

    from portal.public import open311, services
    from portal.public.record import PublicConcern

    for built in (services.public_record(private_data), open311.as_request(private_data)):
        text = json.dumps(built)
        assert MARK not in text and "3712345" not in text and "7187654" not in text, built
    # The type itself has no room for a private field: a careless addition is refused, not published.
    fields = services.public_concern(private_data).model_dump()
    with pytest.raises(ValidationError):
        PublicConcern(**fields, internal_notes=private_data.internal_notes)
    assert not {"internal_notes", "street", "status_reason", "created_by_id", "pact_meeting"} & set(fields)


def test_no_task_file_reaches_any_public_page_or_api(app, browser, private_data, tmp_path):
    """A published task's photo (its name marked private) is never linked, named or served publicly."""
    import io

    from werkzeug.datastructures import FileStorage

    from portal.partners.models import Organisation
    from portal.tasking import attachments
    from portal.tasking.models import Task, TaskFile

    app.config["UPLOAD_DIR"] = str(tmp_path)
    officer = User(email="files.officer@example.org", display_name="PC Files", role="admin")
    db.session.add(officer)
    db.session.flush()
    lead = db.session.execute(select(Organisation.id).limit(1)).scalar_one()
    task = Task(title="Dog fouling patrols", problem="Corve Street", area_id=locality("south").id,
                locality_id=locality("ludlow").id, lead_organisation_id=lead, owner_id=officer.id,
                due_on=date(2099, 1, 1), we_did="Dog warden patrols at school times", published=True)
    task.concerns = [private_data]
    db.session.add(task)
    db.session.flush()
    body = b"%PDF-1.4\n%%EOF\n"
    attachments.update_with_files(task, by=officer, version=task.version_id, text="Patrol log",
                                  files=[FileStorage(io.BytesIO(body), f"Patrol {MARK}.pdf")])
    db.session.commit()
    assert db.session.execute(select(TaskFile)).scalars().one().name == f"Patrol {MARK}.pdf"
    for url in public_urls(app, private_data):
        body_text = browser.get(url).get_data(as_text=True)
        assert MARK not in body_text and "/files/" not in body_text, f"a task's file leaked into {url}"
