"""axe-core on the main public and officer pages at desktop width (every page at phone width: test_every_page.py)."""


from .conftest import serious_violations, sign_in, with_axe

PUBLIC_PAGES = ["/", "/map", "/you-said-we-did", "/you-said-we-did?q=Ludlow", "/places/ludlow", "/places/north",
                "/open-data", "/login"]
OFFICER_PAGES = ["/concerns/?mine=1", "/concerns/meetings/1", "/concerns/meetings/new", "/concerns/new",
                 "/concerns/top-categories", "/concerns/survey", "/plan/", "/concerns/1", "/tasks/", "/tasks/new",
                 "/tasking/meetings/", "/tasking/meetings/new", "/indicators/", "/crime/assessment",
                 "/tasking/coverage/", "/tasking/coverage/north", "/tasking/coverage/north?place=wem", "/dashboard/",
                 "/tasks/?show=open"]



def test_public_pages_have_no_serious_accessibility_violations(live_server, page):
    with_axe(page)
    found = {}
    for path in PUBLIC_PAGES:
        page.goto(live_server + path)
        if path == "/map":
            page.wait_for_function("() => document.getElementById('public-map').dataset.markers !== undefined")
        found[path] = serious_violations(page)
    assert {p: v for p, v in found.items() if v} == {}


def test_officer_pages_have_no_serious_accessibility_violations(live_server, page):
    with_axe(page)
    sign_in(page, live_server, "officer")
    found = {}
    for path in OFFICER_PAGES:
        page.goto(live_server + path)
        found[path] = serious_violations(page)
    assert {p: v for p, v in found.items() if v} == {}


