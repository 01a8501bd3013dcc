"""A resident raises a concern online on a phone, in Chromium: by place name (with and without JavaScript) and
by a tap on the map; every page of the journey axe clean and no wider than the phone."""
import pytest
from sqlalchemy import select

from portal.concerns.models import Concern
from portal.extensions import db

from .conftest import serious_violations, shot, with_axe

pytestmark = pytest.mark.browser
PHONE = {"width": 320, "height": 640}


def fits_the_phone(tab):
    """Nothing to scroll sideways: the page is no wider than the screen."""
    return tab.evaluate("() => document.documentElement.scrollWidth") <= tab.viewport_size["width"]


def concern_saying(text):
    db.session.expire_all()
    return db.session.execute(select(Concern).filter_by(you_said=text)).scalar_one_or_none()


def test_a_resident_raises_a_concern_by_place_search_on_a_small_phone(live_server, page):
    with_axe(page)
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/")
    page.click("a:has-text('Raise a concern')")
    page.wait_for_url("**/raise-a-concern/")
    assert serious_violations(page) == [] and fits_the_phone(page)
    page.select_option("#category", label="Youth related - rowdy / nuisance behaviour")
    page.fill("#you_said", "Teenagers kicking a ball against parked cars in the square, most evenings")
    page.fill("#place", "Castle")
    page.fill("#email", "resident.phone@example.org")
    page.click("button:has-text('Send the concern')")

    # Several places match: the error summary says so and links to the field; the choices are radios.
    summary = page.locator(".govuk-error-summary")
    assert "More than one place matches “Castle”" in summary.inner_text()
    # GOV.UK Frontend's script moves the focus to the summary once it has started.
    page.wait_for_function("() => document.activeElement.closest('.govuk-error-summary') !== null", timeout=5000)
    assert serious_violations(page) == [] and fits_the_phone(page)
    shot(page, "raise-a-concern-which-place")
    assert concern_saying("Teenagers kicking a ball against parked cars in the square, most evenings") is None
    choice = page.locator("input[name=place_key]").first
    choice.focus()
    page.keyboard.press("Space")  # by keyboard, as a screen reader user would
    assert choice.is_checked()
    page.click("button:has-text('Send the concern')")

    page.wait_for_url("**/raise-a-concern/thank-you")
    assert "Concern sent" in page.inner_text("main")
    assert serious_violations(page) == [] and fits_the_phone(page)
    shot(page, "raise-a-concern-sent")
    concern = concern_saying("Teenagers kicking a ball against parked cars in the square, most evenings")
    assert concern is not None and concern.status == "new" and concern.source == "resident_online"
    assert str(concern.id) in page.inner_text("main")
    assert page.errors == []


def test_without_javascript_the_place_name_is_the_way_to_say_where(chromium, live_server):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(f"{live_server}/raise-a-concern/")
    assert phone.locator(".portal-point-map").is_hidden() and phone.locator("[data-use-location]").is_hidden()
    phone.select_option("#category", label="Environmental - fly tipping")
    phone.fill("#you_said", "Mattresses dumped in the lay-by on the Shrewsbury road")
    phone.fill("#place", "Wem")
    phone.click("button:has-text('Send the concern')")
    assert "Concern sent" in phone.inner_text("main")
    assert concern_saying("Mattresses dumped in the lay-by on the Shrewsbury road").locality.name == "Wem"
    context.close()


def test_a_tap_on_the_map_fills_the_point_and_chooses_the_ward(live_server, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/raise-a-concern/")
    page.select_option("#category", label="Environmental - litter")
    page.fill("#you_said", "Litter all along the canal towpath")
    page.click("summary:has-text('Or choose the place on a map')")
    box = page.locator(".portal-point-map")
    box.wait_for(state="visible")
    page.wait_for_selector(".portal-point-map.leaflet-container")
    box.click()  # the middle of the map: the middle of Shropshire
    lat, lon = page.input_value("#lat"), page.input_value("#lon")
    assert lat and lon and 52.3 < float(lat) < 53.1 and -3.3 < float(lon) < -2.2
    page.click("button:has-text('Send the concern')")
    page.wait_for_url("**/raise-a-concern/thank-you")
    concern = concern_saying("Litter all along the canal towpath")
    assert concern.locality.level == "ward" and (concern.lat, concern.lon) == (float(lat), float(lon))
    assert page.errors == []
