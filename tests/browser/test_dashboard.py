"""The partnership dashboard on a phone: the chart draws, the tables scroll in their own boxes, and a figure
opens the rows behind it."""
from datetime import date, timedelta

import pytest

from ..factories import completed, new_task
from .conftest import serious_violations, shot, sign_in, with_axe

pytestmark = pytest.mark.browser


def test_an_officer_reads_the_dashboard_on_a_phone_and_opens_the_tasks_behind_a_figure(app, chromium, live_server):
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
