""""Has this made a difference?" in a real browser on a phone: a resident answers "No" with a comment, an
officer of the area approves it, and residents read it under the "We did". axe-core on the new pages."""
import pytest

from ..factories import logged_concern
from .conftest import serious_violations, shot, sign_in, with_axe

pytestmark = pytest.mark.browser
PHONE = {"width": 320, "height": 700}


def phone(chromium, javascript=True):
    context = chromium.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.route("https://*/**", lambda route: route.abort())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return with_axe(page) if javascript else page


def test_a_resident_says_no_an_officer_approves_and_it_appears(app, live_server, chromium):
    concern = logged_concern(12, answered_after=2, where="wem", said="Cars racing on Noble Street at night")
    # The resident, without JavaScript: the buttons under the "We did" are a plain form.
    resident = phone(chromium, javascript=False)
    resident.goto(f"{live_server}/places/wem")
    item = resident.locator(f"#concern-{concern.id}")
    item.get_by_role("button", name="No").click()
    resident.wait_for_url(f"**/you-said-we-did/{concern.id}/made-a-difference**")
    assert resident.is_checked("input[name=answer][value=no]")
    resident.fill("#comment", "Still racing every Friday <script>alert(1)</script>")
    resident.click("button:has-text('Send your answer')")
    resident.wait_for_url(f"**/places/wem?page=1#concern-{concern.id}")
    assert "Thank you: your answer was recorded" in resident.inner_text(".govuk-notification-banner")
    assert "Still racing every Friday" not in resident.inner_text("main")  # waits for an officer
    shot(resident, "feedback-answered-phone")
    # The answer page itself, with JavaScript, for axe.
    checker = phone(chromium)
    checker.goto(f"{live_server}/you-said-we-did/{concern.id}/made-a-difference?answer=partly")
    assert serious_violations(checker) == []
    checker.click("button:has-text('Send your answer')")  # a keyboard or finger: no comment needed
    checker.wait_for_url(f"**/you-said-we-did/{concern.id}/made-a-difference")
    # The North officer approves it from the concern's page, on a phone.
    officer = phone(chromium)
    sign_in(officer, live_server, "officer")
    officer.goto(f"{live_server}/concerns/{concern.id}")
    panel = officer.locator("section.portal-difference-staff")
    assert "2 answers: Yes 0, Partly 1, No 1" in panel.inner_text()
    assert "Waiting for approval" in panel.inner_text()
    assert serious_violations(officer) == []
    panel.get_by_role("button", name="Approve").click()
    officer.wait_for_url(f"**/concerns/{concern.id}#comment-*")
    assert "Comment approved" in officer.inner_text(".govuk-notification-banner")
    assert "Approved: shown to residents" in officer.locator("section.portal-difference-staff").inner_text()
    # Residents now read it, as text.
    resident.goto(f"{live_server}/places/wem")
    said = resident.locator(f"#concern-{concern.id} .portal-difference__comments").inner_text()
    assert "No: “Still racing every Friday <script>alert(1)</script>”" in said
    width = resident.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width} px)"
    shot(resident, "feedback-approved-phone")
    assert checker.errors == [] and officer.errors == [] and resident.errors == []
    for page in (resident, checker, officer):
        page.context.close()
