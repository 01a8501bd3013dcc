"""Residents and officers in a real browser: Debian's Chromium driven by Playwright, and axe-core.

Screenshots land in test-artifacts/ (CI keeps them as artefacts).
"""
import os
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.concerns.models import Concern, ConcernCategory
from portal.config import ROOT
from portal.extensions import db
from portal.places.models import Locality

from ..conftest import DEMO_EMAILS, IN_CI
from ..public.test_public import ASSESSMENT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path():
    path = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not Path(path).exists():
        if IN_CI:
            pytest.fail(f"Chromium is not installed at {path}: .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium is not installed at {path}")
    return path


@pytest.fixture
def live_server(app):
    """The app on a real port, in a thread: the browser talks HTTP to it like a resident would."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    # No internet here: tile requests fail fast, like a network that blocks the tile server.
    context.route("https://*/**", lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def sign_in(page, base, role):
    page.goto(f"{base}/login")
    page.fill("#email", DEMO_EMAILS[role])
    page.fill("#password", "shropshire-demo-2010")
    page.click("button:has-text('Sign in')")


def open_a_popup(page):
    """Click clusters until single markers show, then open one: what a resident does with a mouse."""
    page.wait_for_function("() => document.getElementById('public-map').dataset.markers !== undefined")
    for _ in range(12):
        markers = page.locator(".portal-marker:visible")
        if markers.count():
            markers.first.click()
            break
        page.locator(".marker-cluster:visible").first.click()
        page.wait_for_timeout(400)
    page.wait_for_selector(".portal-popup", timeout=15000)
    return page.locator(".portal-popup").inner_text()


def test_a_resident_filters_the_map_to_an_area_and_reads_a_we_did(live_server, page):
    page.goto(f"{live_server}/map")
    page.select_option("#area", "south")
    page.click("button:has-text('Show')")
    page.wait_for_url("**area=south**")
    text = open_a_popup(page)
    assert "You said" in text and "We did" in text
    south_towns = set(db.session.execute(select(Locality.name).where(
        Locality.parent_id == select(Locality.id).where(Locality.key == "south").scalar_subquery())).scalars())
    assert any(town in text for town in south_towns), text
    shot(page, "map-south-popup")
    assert page.errors == []


def test_an_officer_publishes_a_response_and_residents_see_it_on_the_map(app, live_server, page):
    concern = Concern(locality=db.session.execute(select(Locality).filter_by(key="wem")).scalar_one(),
                      category=db.session.execute(select(ConcernCategory).filter_by(
                          name="ENVIRONMENTAL - GRAFFITI")).scalar_one(),
                      source="pact", raised_on=date(2010, 3, 12), you_said="Graffiti on the bus shelter",
                      status="responded", we_did="Cleansing team removed it within two days",
                      responded_on=date(2010, 3, 20))
    db.session.add(concern)
    db.session.commit()
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/concerns/{concern.id}")
    page.click("button:has-text('Publish')")
    page.wait_for_selector(".govuk-notification-banner")
    assert "Published: residents can now see" in page.inner_text("main")
    category_id = concern.category_id
    page.goto(f"{live_server}/map?q=Wem&category={category_id}")
    text = open_a_popup(page)
    assert "Graffiti on the bus shelter" in text and "Cleansing team removed it within two days" in text
    shot(page, "map-officer-published")


def test_an_officer_opens_a_review_from_its_notification_and_publishes_it(app, live_server, page):
    import re

    from portal.notifications.models import OutboxMessage
    from portal.tasking import tasks

    from ..factories import new_concern, new_task, user

    app.config["PORTAL_URL"] = live_server  # the address the officer's email client opens
    concern = new_concern(said="Youths gathering by the bus station")
    task = new_task(concern=concern)
    tasks.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                      assessment="Calls fell from 9 to 1 a month", we_did="Youth workers now meet them on Fridays")
    db.session.commit()
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/outbox")  # the outbox an admin reads when no mail server is set
    outbox = page.inner_text("main")
    assert "Awaiting your review: Youths at the recreation ground" in outbox
    message = db.session.execute(select(OutboxMessage).filter_by(kind="review")).scalar_one()
    link = re.search(r"Review it: (\S+)", message.body).group(1)
    assert link == f"{live_server}/tasks/{task.id}" and link in outbox
    page.context.clear_cookies()

    page.goto(link)  # opened from the email: signed out, so through the sign-in page and back
    page.fill("#email", DEMO_EMAILS["officer"])
    page.fill("#password", "shropshire-demo-2010")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(link)
    assert page.locator(".portal-nav-count").inner_text().startswith("1")
    page.click("button:has-text('Approve and publish')")
    page.wait_for_selector(".govuk-notification-banner")
    assert "Reviewed: the 'We did' is published" in page.inner_text("main")
    assert page.locator(".portal-nav-count").count() == 0
    db.session.expire_all()
    assert concern.published and concern.we_did == "Youth workers now meet them on Fridays"
    page.goto(f"{live_server}/tasks/")
    assert "Awaiting your review" not in page.inner_text("main")
    shot(page, "review-from-notification")
    assert page.errors == []


def test_the_list_works_without_javascript(chromium, live_server):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/you-said-we-did")
    page.fill("#q", "Ludlow")
    page.click("button:has-text('Show')")
    body = page.inner_text("main")
    assert "Places matching “Ludlow”" in body and "We did" in body
    shot(page, "list-no-javascript")
    # Paging works without JavaScript too: the whole county's list runs to more than one page.
    page.goto(f"{live_server}/you-said-we-did")
    first = page.locator("article.portal-ysd h3").all_inner_texts()
    page.click("a[rel=next]")
    assert "page=2" in page.url
    second = page.locator("article.portal-ysd h3").all_inner_texts()
    assert first and second and first != second
    assert page.locator("a[rel=prev]").count() == 1
    context.close()


PUBLIC_PAGES = ["/", "/map", "/you-said-we-did", "/you-said-we-did?q=Ludlow", "/places/ludlow", "/places/north",
                "/open-data", "/login"]
OFFICER_PAGES = ["/concerns/?mine=1", "/concerns/meetings/1", "/concerns/meetings/new", "/concerns/new",
                 "/concerns/top-categories", "/concerns/survey", "/plan/", "/concerns/1", "/tasks/", "/tasks/new",
                 "/tasking/meetings/", "/tasking/meetings/new", "/indicators/", "/crime/assessment", "/dashboard/",
                 "/tasks/?show=open"]


def with_axe(page):
    """axe-core injected by the browser itself, as an extension would be: an added <script> tag has no
    nonce, and the pages' policy (rightly) refuses it."""
    page.context.add_init_script(path=str(AXE))
    return page


def serious_violations(page):
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


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


OPEN_EVERY_TOOLTIP = """() => {
  // Hover every shape of the folium map, as a resident moving the mouse over each ward would.
  const map = window[document.querySelector('.folium-map').id];
  const texts = [];
  let images = 0;
  map.eachLayer(layer => {
    if (!(layer.feature || layer.getTooltip && layer.getTooltip()) || !layer.getBounds && !layer.getLatLng) return;
    const at = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
    layer.fire('mouseover', {latlng: at, layer: layer}, true);
    document.querySelectorAll('.leaflet-tooltip').forEach(tip => {
      texts.push(tip.textContent.replace(/\\s+/g, ' ').trim());
      images += tip.querySelectorAll('img').length;
    });
    layer.fire('mouseout', {latlng: at, layer: layer}, true);
  });
  return {texts: texts, images: images};
}"""


def test_a_hostile_locality_name_and_concern_text_show_literally_on_every_map(app, live_server, page):
    from ..public.test_public import ASSESSMENT, HOSTILE_NAME

    ward = db.session.execute(select(Locality).filter_by(key="e05008180")).scalar_one()
    ward.name = HOSTILE_NAME
    db.session.add(Concern(locality=ward, category=db.session.execute(select(ConcernCategory).filter_by(
        name="ENVIRONMENTAL - GRAFFITI")).scalar_one(), source="pact", raised_on=date(2010, 3, 12),
        you_said="Tag says {{7*7}} <img src=x onerror=alert(1)>", status="responded",
        we_did="Removed ${6*7} <b>tags</b>", responded_on=date(2010, 3, 20), published=True))
    db.session.commit()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server}/map?q=Quarry")
    page.wait_for_function("() => document.getElementById('public-map').dataset.markers !== undefined")
    hovered = page.evaluate(OPEN_EVERY_TOOLTIP)
    assert HOSTILE_NAME in hovered["texts"], [t for t in hovered["texts"] if "Quarry" in t]
    assert hovered["images"] == 0
    popup = open_a_popup(page)
    assert "Tag says {{7*7}} <img src=x onerror=alert(1)>" in popup and "Removed ${6*7} <b>tags</b>" in popup
    assert page.locator(".portal-popup img, .portal-popup b").count() == 0

    sign_in(page, live_server, "officer")
    page.goto(live_server + ASSESSMENT)
    page.wait_for_selector(".folium-map")
    hovered = page.evaluate(OPEN_EVERY_TOOLTIP)
    assert any(t.startswith(HOSTILE_NAME + ": ") for t in hovered["texts"]), \
        [t for t in hovered["texts"] if "Quarry" in t]
    assert hovered["images"] == 0
    shot(page, "assessment-hostile-name")
    assert dialogs == [] and page.errors == []


# ---- the content security policy: no inline script runs without this response's nonce ------------

WATCH_POLICY = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' \
+ e.lineNumber));
"""


def script_src(response):
    return next(d.strip() for d in response.headers["content-security-policy"].split(";")
                if d.strip().startswith("script-src"))


def test_both_maps_draw_under_a_script_policy_without_unsafe_inline(live_server, page):
    page.add_init_script(WATCH_POLICY)
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    drawn = {}

    response = page.goto(f"{live_server}/map")
    assert "'unsafe-inline'" not in script_src(response) and "'nonce-" in script_src(response)
    page.wait_for_function("() => +document.getElementById('public-map').dataset.markers > 0")
    drawn["/map"] = (page.locator(".portal-marker, .marker-cluster").count(),
                     page.locator("path.leaflet-interactive").count())
    assert page.evaluate("() => window.__violations") == []
    shot(page, "csp-public-map")

    sign_in(page, live_server, "analyst")
    response = page.goto(live_server + ASSESSMENT)
    assert "'unsafe-inline'" not in script_src(response) and "'nonce-" in script_src(response)
    page.wait_for_selector(".folium-map path.leaflet-interactive", state="attached", timeout=15000)
    drawn[ASSESSMENT] = (page.locator("path.leaflet-interactive").count(),)
    assert page.evaluate("() => window.__violations") == []
    shot(page, "csp-assessment-map")

    assert drawn["/map"][0] > 0 and drawn["/map"][1] > 0 and drawn[ASSESSMENT][0] > 0, drawn
    # Tiles fail here (no internet): those are the only console errors allowed.
    refused = [m for m in console if "Failed to load resource" not in m]
    assert refused == [] and page.errors == [], refused


def test_a_partner_moves_a_due_date_and_an_officer_answers_each_concern_of_the_task(app, live_server, page):
    from datetime import timedelta

    from portal.tasking import tasks
    from portal.tasking.models import Task

    from ..factories import new_concern, one, user

    speeding = new_concern(said="Cars racing down the High Street", name="VEHICLE RELATED - SPEEDING TRAFFIC")
    dogs = new_concern(said="Dog mess by the school gate", name="ENVIRONMENTAL - DOG FOULING")
    task = tasks.create_task(by=user("officer"), title="Speeding on the High Street", problem="Speeding",
                             locality_id=one(Locality, key="wem").id, owner_id=user("partner").id,
                             lead_organisation_id=user("partner").organisation_id,
                             due_on=date.today() + timedelta(days=14), concern_ids=[speeding.id, dogs.id])
    db.session.commit()
    task_id, later = task.id, date.today() + timedelta(days=30)

    with_axe(page)
    sign_in(page, live_server, "partner")
    page.goto(f"{live_server}/tasks/{task_id}")
    page.click("a:has-text('Change task details')")
    page.fill("#due_on-day", str(later.day))
    page.fill("#due_on-month", str(later.month))
    page.fill("#due_on-year", str(later.year))
    page.click("button:has-text('Save changes')")
    assert "Give the reason for the new due date" in page.inner_text(".govuk-error-summary")
    assert serious_violations(page) == []
    page.click(".govuk-error-summary a:has-text('Give the reason')")
    page.keyboard.type("waiting for CCTV")
    page.click("button:has-text('Save changes')")
    page.wait_for_selector(".govuk-notification-banner")
    assert f"to {later.day} {later:%b %Y}: waiting for CCTV" in page.inner_text("main")
    shot(page, "task-due-date-moved")

    db.session.expire_all()
    task = db.session.get(Task, task_id)
    tasks.update_task(task, by=user("partner"), version=task.version_id, status="completed",
                      assessment="Fewer complaints", we_did="Speed checks twice a week")
    db.session.commit()
    page.context.clear_cookies()
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/tasks/{task_id}")
    assert page.input_value(f"#we_did_{dogs.id}") == "Speed checks twice a week"
    assert serious_violations(page) == []
    page.fill(f"#we_did_{dogs.id}", "Dog wardens patrolled the school gate at home time")
    page.click("button:has-text('Approve and publish')")
    page.wait_for_selector(".govuk-notification-banner")
    page.goto(f"{live_server}/api/concerns/{dogs.id}.json")
    assert "Dog wardens patrolled the school gate at home time" in page.inner_text("body")
    page.goto(f"{live_server}/api/concerns/{speeding.id}.json")
    assert "Speed checks twice a week" in page.inner_text("body")
    assert page.errors == []


# ---- the chain: concern -> task -> indicator and back, by links alone -----------------------------------

def test_an_officer_walks_from_a_concern_to_its_task_and_indicator_and_back(app, live_server, page):
    from portal.indicators import engine

    from ..factories import new_concern, new_task, plan_action

    concern = new_concern(said="Youths gathering by the Wem chip shop")
    task = new_task(concern, action=plan_action())
    task.title = "Youths at the Wem chip shop"
    db.session.commit()
    engine.rollup(date(2018, 10, 1), date(2018, 10, 1), sources=("police_crime",))
    related = "section.portal-related"

    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/concerns/{concern.id}")
    page.click(f"{related} a:has-text('Task {task.id}: Youths at the Wem chip shop')")
    page.wait_for_url(f"**/tasks/{task.id}")
    assert "To tackle anti social behaviour" in page.inner_text(related)
    page.click(f"{related} a:text-is('Anti-social behaviour incidents per 1,000 residents')")
    page.wait_for_url("**/indicators/?frequency=monthly&locality=north#indicator-asb-incidents-rate")
    row = page.locator("#indicator-asb-incidents-rate")
    assert "Live tasks: 1" in row.inner_text()
    shot(page, "chain-report-row")
    row.locator(f"a:has-text('Task {task.id}: Youths at the Wem chip shop')").click()
    page.wait_for_url(f"**/tasks/{task.id}")
    page.click(f"{related} a:has-text('Concern {concern.id}:')")
    page.wait_for_url(f"**/concerns/{concern.id}")
    assert "Youths gathering by the Wem chip shop" in page.inner_text("main")
    assert page.errors == []


SELECT_WORDS = """words => {
  // A mouse selecting the words in the shown text, as an officer would drag across them.
  const source = document.querySelector('.portal-redact-source[data-field="you_said"]');
  const node = source.firstChild, start = node.textContent.indexOf(words);
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, start + words.length);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  source.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


def test_an_officer_edits_redacts_and_withdraws_a_published_concern(app, live_server, page):
    concern = Concern(locality=db.session.execute(select(Locality).filter_by(key="wem")).scalar_one(),
                      category=db.session.execute(select(ConcernCategory).filter_by(
                          name="ENVIRONMENTAL - GRAFFITI")).scalar_one(),
                      source="pact", raised_on=date(2010, 3, 12), you_said="Grafiti on the bus shelter",
                      status="responded", we_did="Cleansing team removed it", responded_on=date(2010, 3, 20),
                      published=True)
    db.session.add(concern)
    db.session.commit()
    with_axe(page)
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/concerns/{concern.id}")
    page.click("a:has-text('Edit the concern')")
    page.wait_for_selector("#you_said")
    assert serious_violations(page) == []
    page.fill("#you_said", "Graffiti on the bus shelter, says Mr Brown of 4 Mill Lane")
    page.fill("#raised_count", "3")
    page.click("button:has-text('Save the corrections')")
    page.wait_for_selector(".govuk-notification-banner")
    history = page.inner_text(".portal-timeline")
    assert "Changed “You said”: “Grafiti on the bus shelter” → “Graffiti on the bus shelter, says Mr" in history
    assert "Changed residents raising it: “1” → “3”" in history

    page.click("a:has-text('Redact words')")
    page.wait_for_selector(".portal-redact-source")
    assert serious_violations(page) == []
    page.evaluate(SELECT_WORDS, ", says Mr Brown of 4 Mill Lane")
    assert page.input_value("#text") == ", says Mr Brown of 4 Mill Lane"
    page.click("button:has-text('Replace with [removed]')")
    page.wait_for_selector(".govuk-notification-banner")
    assert "Graffiti on the bus shelter[removed]" in page.inner_text("main")
    assert "Mill Lane" not in page.inner_text("main")
    shot(page, "concern-redacted")

    page.click("a:has-text('Withdraw from public view')")
    page.wait_for_selector("#reason")
    assert serious_violations(page) == []
    page.click("button:has-text('Withdraw from public view')")
    assert "Give the reason for withdrawing it from public view" in page.inner_text(".govuk-error-summary")
    page.fill("#reason", "Residents named a neighbour in the text")
    page.click("button:has-text('Withdraw from public view')")
    page.wait_for_selector(".govuk-notification-banner")
    assert "Withdrawn from public view: Residents named a neighbour in the text" in page.inner_text(".portal-timeline")
    page.goto(f"{live_server}/you-said-we-did?q=Wem")
    assert "Graffiti on the bus shelter" not in page.inner_text("main")
    assert page.errors == []


def test_a_resident_reads_why_no_further_action_was_taken_in_a_map_popup(app, live_server, page):
    category = db.session.execute(select(ConcernCategory).filter_by(name="ENVIRONMENTAL - GRAFFITI")).scalar_one()
    db.session.add(Concern(locality=db.session.execute(select(Locality).filter_by(key="wem")).scalar_one(),
                           category=category, source="pact", raised_on=date(2010, 3, 12),
                           you_said="Tags on the chapel wall", status="no_further_action", published=True,
                           public_reason="The wall is private property; the owner is removing the tags",
                           decided_on=date(2010, 3, 22)))
    db.session.commit()
    page.goto(f"{live_server}/map?q=Wem&category={category.id}")
    text = open_a_popup(page)
    assert "No further action (22 Mar 2010): The wall is private property" in text
    assert "We did" not in text
    assert page.errors == []


def test_the_chair_decides_each_agenda_item_in_its_own_form_on_a_phone(app, live_server, page):
    from portal.tasking.models import AgendaItem

    from ..factories import new_concern, new_meeting

    for n in range(6):
        new_concern(said=f"Youths gathering by the shops, report {n}")
    meeting = new_meeting()
    items = db.session.execute(select(AgendaItem).filter_by(meeting_id=meeting.id)
                               .order_by(AgendaItem.position)).scalars().all()
    first, fifth = items[0], items[4]
    page.set_viewport_size({"width": 390, "height": 844})
    with_axe(page)
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/tasking/meetings/{meeting.id}")
    assert serious_violations(page) == []
    for item in (first, fifth):
        page.click(f"#item-{item.id} summary")
    page.click(f"label[for=item-{fifth.id}-decision-4]")  # "Noted", on item 5
    assert page.is_checked(f"#item-{fifth.id}-decision-4")
    assert not page.is_checked(f"#item-{first.id}-decision-4")
    page.click(f"label[for=item-{fifth.id}-decision-2]")  # "No further action", with no reason
    page.click(f"#item-{fifth.id} button:has-text('Record decision')")
    link = page.locator(f".govuk-error-summary a[href='#item-{fifth.id}-note']")
    assert link.inner_text() == "Item 5: Give the reason for no further action"
    shot(page, "agenda-item-error-phone")
    link.click()  # the summary's script moves the focus to the field (without it, the link's #fragment)
    assert page.evaluate("() => document.activeElement.id") == f"item-{fifth.id}-note"
    assert page.is_checked(f"#item-{fifth.id}-decision-2") and not page.is_checked(f"#item-{first.id}-decision-2")
    page.fill(f"#item-{fifth.id}-note", "The school is dealing with it")
    page.click(f"#item-{fifth.id} button:has-text('Record decision')")
    assert "Decision: No further action: The school is dealing with it" in page.inner_text(f"#item-{fifth.id}")
    assert "Decision:" not in page.inner_text(f"#item-{first.id}")
    page.goto(f"{live_server}/tasking/meetings/{meeting.id}/items/{first.id}?q=youths")
    assert serious_violations(page) == []
    shot(page, "agenda-item-page-phone")
    assert page.errors == []


def test_an_officer_reads_the_dashboard_on_a_phone_and_opens_the_tasks_behind_a_figure(app, chromium, live_server):
    from datetime import timedelta

    from ..factories import completed, new_task

    completed(new_task(), "Moved the bench")
    overdue = new_task(due=date.today() - timedelta(days=3))
    phone = chromium.new_context(viewport={"width": 320, "height": 640})
    page = phone.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with_axe(page)
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server}/dashboard/")
    page.wait_for_function("() => Chart.getChart(document.querySelector('canvas.portal-bars')) !== undefined")
    page.locator("canvas.portal-bars").scroll_into_view_if_needed()
    shot(page, "dashboard-phone")
    assert serious_violations(page) == []
    # The tables scroll inside their own box: the page itself never runs wider than the phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    page.locator("#tasks-by-lead [data-figure='overdue'] a").first.click()
    page.wait_for_url("**/tasks/?**show=overdue**")
    assert page.locator(f"a[href='/tasks/{overdue.id}']").count() == 1
    assert page.locator("a[href^='/tasks/']:not([href*='?']):not([href$='/new']):not([href='/tasks/'])").count() == 1
    assert serious_violations(page) == [] and errors == []
    phone.close()
