"""Before and after in a real browser: a partner completes a task and reads its figures; a resident reads
the plain line under the published "We did"."""
from datetime import date

import pytest

from portal.extensions import db
from portal.tasking import tasks

from ..evidence.test_evidence import full_months, responding
from ..factories import new_concern, new_task, user
from .conftest import ARTIFACTS, serious_violations, shot, sign_in, with_axe

pytestmark = pytest.mark.browser


def test_a_partner_completes_a_task_with_its_before_and_after_and_a_resident_reads_the_line(
        app, live_server, page, chromium):
    full_months(app, {1: 14, 2: 14, 3: 13, 4: 9, 5: 10, 6: 10, 7: 9}, 40)
    task = responding(new_task(new_concern(where="wem", said="Youths gathering by the bus station")),
                      date(2019, 4, 10))
    with_axe(page)
    sign_in(page, live_server, "partner")
    page.goto(f"{live_server}/tasks/{task.id}")
    section = page.locator("#evidence")
    assert "Recorded anti-social behaviour in Wem, beside the rest of the North area" in section.inner_text()
    table = page.locator("#evidence-table").inner_text()
    assert "41" in table and "29" in table and "-29%" in table
    assert "-29 percentage points" in page.locator("#evidence-did").inner_text()
    page.wait_for_function("() => document.querySelector('canvas.portal-evidence-chart').width > 0")
    # The assessment starts from the figures; the partner completes the task with it.
    assessment = page.locator("#assessment").input_value()
    assert assessment.startswith("Recorded anti-social behaviour in Wem: 41 in the three months before")
    page.select_option("#status", "completed")
    page.fill("#we_did", "Youth workers now meet them at the bus station on Friday nights")
    page.click("button:has-text('Save update')")
    page.wait_for_selector(".govuk-notification-banner")
    assert "Assessment" in page.inner_text("main")  # the stage a completed task is in
    assert "41" in page.locator("#evidence-table").inner_text()
    assert serious_violations(page) == []
    shot(page, "evidence-task")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#evidence").screenshot(path=str(ARTIFACTS / "evidence-section.png"))
    assert page.errors == []

    db.session.expire_all()
    tasks.review_and_publish(task, by=user("officer"), version=task.version_id)
    db.session.commit()

    resident = chromium.new_context(viewport={"width": 320, "height": 640}).new_page()
    resident.goto(f"{live_server}/places/wem")
    line = resident.locator(".portal-ysd__evidence").first
    assert line.inner_text() == ("Recorded anti-social behaviour in Wem fell from 41 to 29 in the three months after "
                                 "the partnership's response began, while in the rest of the North area it was "
                                 "unchanged.")
    # On a phone the line wraps: nothing wider than the screen.
    assert resident.evaluate("() => document.documentElement.scrollWidth") <= 320
    shot(resident, "evidence-public-line")
    resident.context.close()
