"""The chain an officer walks: a task names its delivery-plan action, and every concern and task page
links the records around it (PACT meeting, tasks, tasking meetings, concerns, action, indicators)."""
import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from portal.concerns.models import PactMeeting
from portal.extensions import db
from portal.places.models import Locality
from portal.plan.models import Action, DeliveryPlan, Theme
from portal.tasking import chain
from portal.tasking import meetings as tasking_meetings
from portal.tasking.models import Task

from ..conftest import text_of
from ..factories import logged_concern, new_concern, new_meeting, new_task, one, plan_action, user

FUTURE = (date.today() + timedelta(days=21)).strftime("%d/%m/%Y")


def related_links(response):
    """(text, href) of every link in the page's "Related records" block."""
    page = response.get_data(as_text=True)
    block = page[page.index('<section class="portal-related"'):]
    block = block[:block.index("</section>")]
    return [(re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip(), html.unescape(href))
            for href, text in re.findall(r'<a class="govuk-link" href="([^"]+)">(.*?)</a>', block, flags=re.S)]


def hrefs(response):
    return [href for _, href in related_links(response)]


def task_form(**changes):
    return {"title": "Youths at the recreation ground", "problem": "Gatherings most nights",
            "locality": str(one(Locality, key="wem").id), "lead_organisation": str(user("partner").organisation_id),
            "owner": str(user("partner").id), "due_on": FUTURE, "priority": "medium",
            "action": str(plan_action().id)} | changes


# ---- a task names one action of the plan ------------------------------------------------------------

def test_the_task_form_offers_the_plans_actions_grouped_by_theme_and_the_task_keeps_the_one_chosen(app, as_role):
    officer = as_role("officer")
    page = officer.get("/tasks/new").get_data(as_text=True)
    select_html = html.unescape(re.search(r'<select[^>]* id="action"[^>]*>(.*?)</select>', page, re.S).group(1))
    assert select_html.startswith('<option selected value="">Choose the action it serves</option><optgroup')
    groups = re.findall(r'<optgroup label="([^"]+)">', select_html)
    themes = db.session.execute(select(Theme.name).order_by(Theme.position)).scalars().all()
    assert groups == themes and "Increase Public Confidence" in groups
    confidence = select_html[select_html.index('label="Increase Public Confidence"'):]
    assert confidence.index(plan_action().title) < confidence.index("</optgroup>")
    assert '<label class="govuk-label" for="action">Delivery-plan action</label>' in page

    response = officer.post("/tasks/new", task_form())
    assert response.status_code == 302
    task = one(Task, title="Youths at the recreation ground")
    assert task.action == plan_action()


@pytest.mark.both_databases
@pytest.mark.parametrize("sent", ["", "999999", "abc", "older plan"])
def test_a_task_without_an_action_of_the_current_plan_is_refused_naming_the_field(app, backend, as_role, sent):
    if sent == "older plan":
        older = DeliveryPlan(year="2009-10", title="Delivery Plan 2009-10")
        older.themes = [Theme(name="Old theme", actions=[Action(title="An action of last year's plan")])]
        db.session.add(older)
        db.session.commit()
        sent = str(older.themes[0].actions[0].id)
    before = db.session.execute(select(func.count()).select_from(Task)).scalar_one()
    response = as_role("officer").post("/tasks/new", task_form(action=sent))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    message = ("Choose the delivery-plan action the task serves" if sent == "" else
               "Choose the delivery-plan action the task serves, from the current plan")
    assert f'<a href="#action">{message}</a>' in page  # the error summary links to the field
    assert 'id="action-error"' in page
    assert db.session.execute(select(func.count()).select_from(Task)).scalar_one() == before


def test_tasks_raised_before_actions_existed_have_none_and_say_so(app, as_role):
    task = new_task()
    assert task.action_id is None
    page = text_of(as_role("officer").get(f"/tasks/{task.id}"))
    assert "Delivery-plan action None named" in page


# ---- the concern page ------------------------------------------------------------------------------

@pytest.fixture
def walked(app):
    """A PACT concern in Wem, tasked at a Bronze meeting a week ago (which raised the task) and linked to a
    second task raised from the task form; today's meeting has the first task on its agenda as due, and
    notes it."""
    officer = user("officer")
    pact = PactMeeting(locality=one(Locality, key="wem"), held_on=date.today() - timedelta(days=10),
                       venue="Wem Town Hall")
    db.session.add(pact)
    concern = new_concern(pact_meeting=pact)
    first = new_meeting(held_on=date.today() - timedelta(days=7))
    item = next(i for i in first.items if i.concern_id == concern.id)
    tasking_meetings.decide(item, by=officer, decision="create_task", task_fields=dict(
        title="Youths at Wem recreation ground", problem=item.summary, locality_id=concern.locality_id,
        lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
        due_on=date.today() + timedelta(days=3), action_id=plan_action().id))
    db.session.commit()
    raised = item.resulting_task
    other = new_task(concern, action=plan_action("To reduce criminal damage"))
    other.title = "Damage to the play area"
    db.session.commit()
    second = new_meeting()
    due = next(i for i in second.items if i.task_id == raised.id)
    tasking_meetings.decide(due, by=officer, decision="noted", note="Youth club starts Friday")
    db.session.commit()
    return dict(concern=concern, pact=pact, first=first, second=second, raised=raised, other=other, item=item,
                due=due)


def test_a_concern_page_links_its_pact_meeting_its_tasks_and_the_meeting_that_decided_on_it(app, as_role, walked):
    concern, pact, first, raised, other = (walked[k] for k in ("concern", "pact", "first", "raised", "other"))
    response = as_role("officer").get(f"/concerns/{concern.id}")
    links = related_links(response)
    assert (f"PACT meeting in Wem, {pact.held_on.day} {pact.held_on:%b %Y}", f"/concerns/meetings/{pact.id}") in links
    assert (f"Task {raised.id}: Youths at Wem recreation ground", f"/tasks/{raised.id}") in links
    assert (f"Task {other.id}: Damage to the play area", f"/tasks/{other.id}") in links
    assert f"/tasking/meetings/{first.id}" in hrefs(response)
    block = text_of(response)[text_of(response).index("Related records"):]
    assert "New or accepted concern: create a task" in block
    # the later meeting made no decision on this concern, so it is not listed on the concern's page
    assert f"/tasking/meetings/{walked['second'].id}" not in hrefs(response)


def test_a_concern_without_a_pact_meeting_or_tasks_says_so(app, as_role):
    concern = logged_concern(2)
    block = text_of(as_role("officer").get(f"/concerns/{concern.id}"))
    block = block[block.index("Related records"):]
    assert "PACT meeting None: raised from a resident contact" in block
    assert "Tasks None" in block and "Tasking meetings that decided on it None" in block


# ---- the task page ---------------------------------------------------------------------------------

def test_a_task_page_links_its_concerns_meetings_action_and_indicators(app, as_role, walked):
    raised, concern, first, second = (walked[k] for k in ("raised", "concern", "first", "second"))
    officer = as_role("officer")
    response = officer.get(f"/tasks/{raised.id}")
    links = related_links(response)
    assert (f"Concern {concern.id}: Youth related - youths inappropriate gathering in Wem",
            f"/concerns/{concern.id}") in links
    meeting_links = [h for h in hrefs(response) if h.startswith("/tasking/meetings/")]
    assert meeting_links == [f"/tasking/meetings/{second.id}", f"/tasking/meetings/{first.id}"]  # newest first
    block = text_of(response)[text_of(response).index("Related records"):]
    assert "raised this task" in block and "Task due before the next meeting: noted (Youth club starts Friday)" in block

    action = plan_action()
    assert (action.title, f"/plan/#action-{action.id}") in links
    assert f'id="action-{action.id}"' in officer.get("/plan/").get_data(as_text=True)
    north = raised.area.key
    for indicator in action.indicators:
        report = f"/indicators/?frequency={indicator.frequency}&locality={north}#indicator-{indicator.code}"
        assert (indicator.name, report) in links
        assert f"/indicators/{indicator.code}?locality={north}" in hrefs(response)
    assert len(action.indicators) >= 1


def test_a_partner_sees_the_chain_of_their_task_but_opens_only_what_they_may(app, as_role, walked):
    partner = as_role("partner")
    raised, other, concern = walked["raised"], walked["other"], walked["concern"]
    task_page = partner.get(f"/tasks/{raised.id}")
    assert f"/concerns/{concern.id}" in hrefs(task_page)
    assert not [h for h in hrefs(task_page) if h.startswith("/tasking/meetings/")]
    block = text_of(task_page)[text_of(task_page).index("Related records"):]
    assert "North area tasking meeting" in block and "Youth club starts Friday" not in block  # no meeting notes
    for href in hrefs(task_page):
        assert partner.get(href.split("#")[0]).status_code == 200, href

    # The other task belongs to another organisation: the partner's concern page does not name it.
    from portal.partners.models import Organisation

    other.lead_organisation = one(Organisation, name="Shropshire Fire and Rescue Service")
    other.owner = user("officer")
    db.session.commit()
    concern_page = partner.get(f"/concerns/{concern.id}")
    assert f"/tasks/{raised.id}" in hrefs(concern_page) and f"/tasks/{other.id}" not in hrefs(concern_page)
    assert "Damage to the play area" not in text_of(concern_page)
    assert f"/concerns/meetings/{walked['pact'].id}" not in hrefs(concern_page)  # staff only


# ---- a fixed number of queries --------------------------------------------------------------------

def count_queries(work):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_the_chain_is_read_in_the_same_number_of_queries_however_long_it_is(app, walked):
    concern, raised = walked["concern"], walked["raised"]
    officer = user("officer")

    def queries():
        db.session.expire_all()
        fresh_concern, fresh_task = db.session.get(type(concern), concern.id), db.session.get(Task, raised.id)
        return (count_queries(lambda: chain.of_concern(fresh_concern, officer)),
                count_queries(lambda: chain.of_task(fresh_task, officer)))

    before = queries()
    for n in range(4):  # four more tasks for the concern, four more meetings about the task
        extra = new_task(action=plan_action())
        extra.concerns.append(concern)
        meeting = new_meeting(held_on=date.today() - timedelta(days=20 + n))
        item = next(i for i in meeting.items if i.task_id == raised.id)
        tasking_meetings.decide(item, by=officer, decision="noted")
        db.session.commit()
    after = queries()
    assert after == before, (before, after)
    assert len(chain.of_concern(concern, officer).tasks) == 6
    assert len(chain.of_task(raised, officer).meetings) == 6
    assert before[0] <= 5 and before[1] <= 6, before
