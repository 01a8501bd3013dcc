"""The partnership dashboard: its figures against a hand count, on SQLite and PostgreSQL, and every figure
linking to a list that shows exactly the rows it counts."""
import html
import re
from datetime import timedelta

import pytest

from portal.dashboard.services import DashboardFilters, Spread, concerns_by_area, tasks_by_organisation
from portal.places.models import Locality

from ..conftest import text_of
from ..factories import one, user
from .conftest import PERIOD, TODAY

pytestmark = pytest.mark.both_databases
FILTERS = DashboardFilters(date_from=TODAY - timedelta(days=90), date_to=TODAY)


def test_tasks_by_lead_partner_match_a_hand_count(app, backend, partnership):
    rows, total = tasks_by_organisation(user("admin"), FILTERS)
    by_name = {r.name: r for r in rows}
    alpha, beta = by_name["Alpha Housing Trust"], by_name["Beta Youth Service"]
    # Open includes the overdue and the South's; the task completed 200 days ago and the closed one count nowhere.
    assert alpha.counts == {"open": 4, "overdue": 2, "on_time": 2, "late": 1}
    assert alpha.days == Spread(3, 14.0, 25.2)  # 7, 14 and 28 days: 90th percentile 14 + 0.8 x 14
    assert beta.counts == {"open": 0, "overdue": 0, "on_time": 0, "late": 1}
    assert beta.days == Spread(1, 3.0, 3.0)
    assert set(by_name) == {"Alpha Housing Trust", "Beta Youth Service"}  # the seed has no tasks
    assert total.counts == {"open": 4, "overdue": 2, "on_time": 2, "late": 2}
    assert total.days == Spread(4, 10.5, 23.8)  # 3, 7, 14, 28

    north = one(Locality, key="north").id
    rows, _ = tasks_by_organisation(user("admin"), DashboardFilters(FILTERS.date_from, FILTERS.date_to, north))
    assert {r.name: r.counts["open"] for r in rows} == {"Alpha Housing Trust": 3, "Beta Youth Service": 0}


def test_a_period_counts_the_tasks_completed_in_it(app, backend, partnership):
    # From 4 to 2 days ago: Alpha's late task (completed 3 days ago) and its on-time one (2 days ago).
    filters = DashboardFilters(date_from=TODAY - timedelta(days=4), date_to=TODAY - timedelta(days=2))
    rows, total = tasks_by_organisation(user("analyst"), filters)
    alpha = next(r for r in rows if r.name == "Alpha Housing Trust")
    assert (alpha.counts["on_time"], alpha.counts["late"], alpha.days.median) == (1, 1, 17.5)
    assert total.counts["open"] == 4  # open and overdue are as they are today


def test_an_officer_sees_only_their_areas_tasks(app, backend, partnership):
    officer = user("officer")  # the North's
    rows, _ = tasks_by_organisation(officer, DashboardFilters(FILTERS.date_from, FILTERS.date_to,
                                                              area_ids=tuple(officer.area_ids)))
    assert next(r for r in rows if r.name == "Alpha Housing Trust").counts["open"] == 3


def test_concerns_by_area_and_the_wait_for_a_published_we_did_match_a_hand_count(app, backend, answered):
    rows, total = concerns_by_area(FILTERS)
    by_name = {r.name: r for r in rows}
    north, south = by_name["North"], by_name["South"]
    assert (north.counts["new"], north.counts["responded"], north.total) == (1, 4, 5)
    assert (south.counts["accepted"], south.total) == (1, 1)
    assert total.total == sum(r.total for r in rows) == 6  # Central has none
    # Answered after 5 (its first publication, not its second), 10, 20 and 40 days.
    assert north.we_did == Spread(4, 15.0, 34.0)
    assert south.we_did == Spread()
    assert total.we_did == Spread(4, 15.0, 34.0)


def figures(page, table):
    """{(row heading, figure): (the number shown, the link)} of a table of the dashboard."""
    body = page.get_data(as_text=True)
    section = body[body.index(f'id="{table}"'):]
    section = section[:section.index("</table>")]
    found = {}
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", section, re.S):
        heading = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
        if heading is None:
            continue
        for figure, href, shown in re.findall(
                r'data-figure="(\w+)">\s*<a class="govuk-link" href="([^"]+)" aria-label="[^"]*">([\d,.]+)</a>', row):
            found[(html.unescape(heading.group(1)).strip(), figure)] = (shown, html.unescape(href))
    return found


def task_rows(browser, url):
    page = browser.get(url)
    assert page.status_code == 200, url
    return len(re.findall(r'href="/tasks/\d+"', page.get_data(as_text=True)))


def register_rows(browser, url):
    page = browser.get(url)
    assert page.status_code == 200, url
    shown = re.search(r"([\d,]+) concerns? match", text_of(page)).group(1)
    rows = len(set(re.findall(r'href="/concerns/(\d+)"', page.get_data(as_text=True))))
    assert int(shown.replace(",", "")) == rows, url  # one page holds them all here
    return rows


@pytest.mark.parametrize("role", ["admin", "officer"])
def test_every_figure_links_to_a_list_of_exactly_the_rows_it_counts(app, backend, as_role, partnership, answered,
                                                                     role):
    person = as_role(role)
    page = person.get(f"/dashboard/?date_from={PERIOD['date_from']}&date_to={PERIOD['date_to']}")
    assert page.status_code == 200
    tasks = figures(page, "tasks-by-lead")
    assert tasks[("Alpha Housing Trust", "open")][0] == ("4" if role == "admin" else "3")
    assert tasks[("All lead partners", "late")][0] == "2"
    for (name, figure), (shown, url) in tasks.items():
        if figure != "median":
            assert task_rows(person, url) == int(shown), (name, figure, url)
    # The median's link lists the tasks it was taken over: those completed in the period.
    assert task_rows(person, tasks[("Alpha Housing Trust", "median")][1]) == 3

    concerns = figures(page, "concerns-by-area") | figures(page, "we-did")
    assert concerns[("North", "total")][0] == "5"
    assert concerns[("North", "answered")][0] == "4"
    assert (("South", "total") in concerns) == (role == "admin")  # the officer's area is the North
    for (name, figure), (shown, url) in concerns.items():
        assert register_rows(person, url) == int(shown), (name, figure, url)
    assert "North 4 15 34" in text_of(page)  # answered, median days, 90% within


def test_the_dashboard_refuses_a_period_that_ends_before_it_starts(app, backend, as_role):
    page = as_role("analyst").get("/dashboard/?date_from=2026-03-01&date_to=2026-02-01")
    assert page.status_code == 400
    assert "There is a problem" in text_of(page)
    assert 'href="#date_to-day"' in page.get_data(as_text=True)  # the summary links to the field
    assert "must be on or after its first day" in text_of(page)
