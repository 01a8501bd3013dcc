"""An analyst writes commentary and issues the pack on a phone, by keyboard, in a real Chromium."""
import pytest

from ..pack.test_pack import NOV, SAC
from .conftest import serious_violations, sign_in, with_axe

pytestmark = pytest.mark.browser


def test_an_analyst_on_a_phone_writes_commentary_and_issues_the_pack_by_keyboard(
        app, live_server, chromium):
    from portal.pack import services

    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = with_axe(context.new_page())
    try:
        sign_in(page, live_server, "analyst")
        page.goto(f"{live_server}/pack/2018-11")
        assert serious_violations(page) == []
        # Nothing is wider than the phone: the tables scroll inside their own box.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
        assert page.locator(f"#indicator-{SAC} svg.portal-pack-trend circle").count() >= 2  # the trend, drawn

        link = page.locator(f"#indicator-{SAC} a:has-text('Write commentary')")
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/commentary/**")
        assert serious_violations(page) == []
        page.keyboard.press("Tab")  # skip link, then on through the page to the form, as a keyboard user does
        page.focus("#locality")
        page.select_option("#locality", "north")
        page.focus("#text")
        page.keyboard.type("Burglary dwelling series in Oswestry: two arrests.")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent.trim()") == "Save commentary"
        page.keyboard.press("Enter")
        page.wait_for_url("**/pack/2018-11#indicator-*")
        assert "Burglary dwelling series in Oswestry: two arrests." in page.locator(f"#indicator-{SAC}").inner_text()

        button = page.locator("button:has-text('Issue the pack for Nov 2018')")
        button.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Download the pack as issued")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    finally:
        context.close()
    pack = services.issued_pack(NOV)
    assert pack is not None and pack.issued_by.role == "analyst"
