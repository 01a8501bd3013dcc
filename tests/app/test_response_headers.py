"""Internal pages and files are never stored by browsers or proxies; the API's address is ours, not the client's."""


def test_internal_pages_and_csvs_are_sent_no_store(app, as_role, browser):
    from ..conftest import Browser

    officer = as_role("officer")
    for url in ("/concerns/", "/concerns/export.csv", "/tasks/", "/plan/", "/indicators/report.csv"):
        response = officer.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "private, no-store", url
    assert officer.get("/map").headers.get("Cache-Control") == "private, no-store"  # the header names the officer
    assert browser.get("/login").headers.get("Cache-Control") == "private, no-store"
    # What residents see may still be cached (a new visitor: the one above has begun a session).
    resident = Browser(app)
    for url in ("/map", "/you-said-we-did", "/api/concerns.csv", "/static/vendor/README.md"):
        response = resident.get(url)
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


def test_the_openapi_server_comes_from_configuration_not_the_host_header(make_app):
    app = make_app()
    served = app.test_client().get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert served["servers"] == [{"url": "/"}]
    app = make_app(PUBLIC_BASE_URL="https://safety.shropshire.example")
    served = app.test_client().get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert served["servers"] == [{"url": "https://safety.shropshire.example"}]
    page = app.test_client().get("/open-data", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page
