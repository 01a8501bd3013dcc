"""The public page cache (Flask-Caching, Redis shared by every worker), HTTP caching, and the script nonce."""
import re
import time
from datetime import date

from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.places.models import Locality
from portal.public import services

from ..conftest import DEMO_EMAILS, REDIS_URL, Browser, text_of

ASSESSMENT = "/crime/assessment?end=2018-11&length=1&compare=previous"


def responded_concern_in_wem(you_said):
    """A responded concern an officer may publish, not yet public."""
    concern = Concern(locality=db.session.execute(select(Locality).filter_by(key="wem")).scalar_one(),
                      category=db.session.execute(select(ConcernCategory).filter_by(
                          name="ENVIRONMENTAL - GRAFFITI")).scalar_one(),
                      source="pact", raised_on=date(2010, 3, 12), you_said=you_said, status="responded",
                      we_did="Cleansing team removed it", responded_on=date(2010, 3, 20))
    db.session.add(concern)
    db.session.commit()
    return concern


def point_ids(response):
    return {item[0] for _, _, items in response.get_json()["points"] for item in items}


def publish(officer, concern):
    response = officer.post(f"/concerns/{concern.id}/publish", {"version": str(concern.version_id)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_two_app_instances_share_the_public_cache_in_redis(app, make_app, redis_cache_settings, monkeypatch):
    """Two gunicorn workers (or hosts) build a public map's data once between them, and a publish on one
    reaches residents on the other within PUBLIC_CACHE_SECONDS."""
    import redis

    built = []
    real_map_points = services.map_points
    monkeypatch.setattr(services, "map_points", lambda f=None: built.append(f) or real_map_points(f))
    first = Browser(make_app(PUBLIC_CACHE_SECONDS=1, **redis_cache_settings))
    second = Browser(make_app(PUBLIC_CACHE_SECONDS=1, **redis_cache_settings))

    url = "/api/map-points.json?q=Wem"
    assert first.get(url).status_code == 200
    from_second = second.get(url)
    assert from_second.status_code == 200 and len(built) == 1, "the second app built the points again"
    assert first.get(url).get_data() == from_second.get_data()
    keys = redis.Redis.from_url(REDIS_URL).keys("*")
    ours = [k for k in keys if k.startswith(redis_cache_settings["CACHE_KEY_PREFIX"].encode())]
    assert ours and len(ours) >= 2, "the data version and the points live under our prefix"

    concern = responded_concern_in_wem("Graffiti on the shared-cache shelter")
    publish(Browser(second.app).sign_in(DEMO_EMAILS["officer"]), concern)
    time.sleep(1.2)
    assert concern.id in point_ids(first.get(url)), "a publish on one app did not reach the other's residents"


def test_a_publish_reaches_the_public_pages_within_the_cache_time(app, make_app, as_role):
    resident = Browser(make_app(PUBLIC_CACHE_SECONDS=1))
    before = point_ids(resident.get("/api/map-points.json?q=Wem"))
    total = int(re.search(r"([\d,]+) published concern", text_of(resident.get("/map?q=Wem"))).group(1))
    concern = responded_concern_in_wem("Graffiti on the bus shelter by the church")
    assert concern.id not in before
    publish(Browser(resident.app).sign_in(DEMO_EMAILS["officer"]), concern)
    time.sleep(1.2)
    assert concern.id in point_ids(resident.get("/api/map-points.json?q=Wem"))
    assert f"{total + 1:,} published concern" in text_of(resident.get("/map?q=Wem"))
    assert "Graffiti on the bus shelter by the church" in text_of(resident.get("/you-said-we-did?q=Wem"))
    assert "Graffiti on the bus shelter by the church" in resident.get("/api/concerns.csv?q=Wem").get_data(as_text=True)
    assert "Graffiti on the bus shelter by the church" in text_of(resident.get("/places/wem"))


HTTP_CACHED_URLS = ("/", "/map", "/map?area=south", "/you-said-we-did", "/places/ludlow", "/api/map-points.json",
                    "/api/concerns.csv", "/api/concerns.geojson", "/api/neighbourhoods/ludlow/priorities.json",
                    "/api/concerns/1.json", "/open311/v2/requests.json", "/open311/v2/services.json",
                    "/api/openapi.json", "/open-data")


def test_anonymous_public_responses_carry_cache_control_and_an_etag_that_gives_304(app, browser):
    for url in HTTP_CACHED_URLS:
        first = browser.get(url)
        if first.status_code == 404:  # /api/concerns/1.json when concern 1 is not published
            continue
        assert first.status_code == 200, url
        assert first.headers["Cache-Control"] == f"public, max-age={int(app.config['PUBLIC_CACHE_SECONDS'])}", url
        etag = first.headers["ETag"]
        again = browser.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.get_data() == b"", url
        # The stored copy keeps the policy whose nonce its scripts carry.
        assert "Content-Security-Policy" not in again.headers, url
        assert browser.get(url, headers={"If-None-Match": 'W/"something-else"'}).status_code == 200, url


def test_a_signed_in_user_gets_private_no_store_and_never_a_304_for_the_residents_page(app, browser, as_role):
    etag = browser.get("/map").headers["ETag"]
    officer = as_role("officer")
    for url in ("/map", "/you-said-we-did", "/places/ludlow", "/api/map-points.json"):
        response = officer.get(url, headers={"If-None-Match": browser.get(url).headers["ETag"]})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "ETag" not in response.headers, url
    assert "PC Olivia Officer" in text_of(officer.get("/map", headers={"If-None-Match": etag}))


def script_src(response):
    policy = response.headers["Content-Security-Policy"]
    return next(d.strip() for d in policy.split(";") if d.strip().startswith("script-src"))


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


def inline_script_nonces(html):
    return [re.search(r'\bnonce="([^"]+)"', attrs).group(1) if "nonce=" in attrs else None
            for attrs in INLINE_SCRIPT.findall(html)]


def test_every_inline_script_carries_this_responses_nonce_and_the_policy_has_no_unsafe_inline(app, browser,
                                                                                              as_role):
    analyst = as_role("analyst")
    pages = [(browser, u) for u in ("/", "/map", "/map?area=south", "/you-said-we-did", "/places/ludlow",
                                    "/open-data", "/login")] + [(analyst, ASSESSMENT), (analyst, "/plan/")]
    seen = set()
    for person, url in pages:
        response = person.get(url)
        assert response.status_code == 200, url
        directive = script_src(response)
        assert "'unsafe-inline'" not in directive, url
        nonce = re.search(r"'nonce-([^']+)'", directive).group(1)
        assert len(nonce) >= 16 and nonce not in seen, f"{url} reused a nonce"
        seen.add(nonce)
        found = inline_script_nonces(response.get_data(as_text=True))
        assert found and set(found) == {nonce}, f"{url}: inline scripts without this response's nonce: {found}"
    assert "'unsafe-inline'" not in script_src(browser.get("/api/map-points.json"))


def test_a_cached_map_never_carries_an_earlier_responses_nonce(app, browser, monkeypatch):
    built = []
    from portal.public import maps

    real_public_map = maps.public_map
    monkeypatch.setattr(maps, "public_map", lambda config: built.append(1) or real_public_map(config))
    first, second = browser.get("/map"), browser.get("/map")
    assert len(built) == 1, "the second map came from the cache"
    nonces = [re.search(r"'nonce-([^']+)'", script_src(r)).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    html = second.get_data(as_text=True)
    assert set(inline_script_nonces(html)) == {nonces[1]} and nonces[0] not in html
    assert first.headers["ETag"] == second.headers["ETag"], "the ETag leaves the nonce out"


def test_the_public_csv_streams_and_is_served_whole_from_the_cache_even_if_a_piece_was_dropped(app, browser,
                                                                                                 monkeypatch):
    from portal import spreadsheets
    from portal.extensions import cache

    monkeypatch.setattr(spreadsheets, "CHUNK_BYTES", 500)  # many pieces from a few records
    app.config["PUBLIC_CACHE_SECONDS"] = 60
    built = browser.get("/api/concerns.csv")
    assert built.status_code == 200 and "Content-Length" not in built.headers  # streamed, not gathered
    body = built.get_data(as_text=True)
    assert body.startswith("id,raised_on,") and body.count("\n") > 5
    keys = [k for k in cache.cache._cache if k.startswith("csv:") and not k.endswith(":pieces")]
    assert len(keys) > 2  # kept piece by piece, never as one body
    assert browser.get("/api/concerns.csv").get_data(as_text=True) == body  # from the cache
    cache.delete(keys[1])
    assert browser.get("/api/concerns.csv").get_data(as_text=True) == body  # the lost piece rebuilt
    etag = built.headers["ETag"]
    again = browser.get("/api/concerns.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
