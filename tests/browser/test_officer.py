"""Officers' journeys: publishing a response, reviewing from a notification, following the chain, corrections."""
from datetime import date

from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.places.models import Locality

from ..conftest import DEMO_EMAILS
from .conftest import open_a_popup, serious_violations, shot, sign_in, with_axe


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


