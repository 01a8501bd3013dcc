"""Residents on the public pages: the map, its popups, and the list without JavaScript."""
from datetime import date

from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.places.models import Locality

from .conftest import open_a_popup, shot


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


