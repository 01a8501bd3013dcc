"""The Bronze tasking meeting: its agenda built from the data, read a page at a time, and the chair's
decision on each item, from the item's compact form on the meeting page or from the item's own page."""
import re
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select

from portal.concerns import services as concerns
from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.partners.models import Organisation
from portal.places.models import Locality
from portal.tasking import meetings
from portal.tasking.agenda import build_agenda
from portal.tasking.models import AgendaItem, Task

from ..conftest import text_of
from ..factories import YOUTHS, new_concern, new_meeting, new_task, one, plan_action, user

FUTURE = (date.today() + timedelta(days=21)).strftime("%d/%m/%Y")
DOGS = "ENVIRONMENTAL - DOG FOULING"


def agenda(area="north"):
    return build_agenda(one(Locality, key=area), date.today())


def concern_raised(days_ago, **extra):
    """A new concern (see new_concern) first raised ``days_ago``. Commits."""
    concern = new_concern(**extra)
    concern.raised_on = date.today() - timedelta(days=days_ago)
    db.session.commit()
    return concern


def many_concerns(count, where="wem", said="Litter on the high street"):
    """``count`` new concerns of the area, raised in the last weeks, added in one go. Commits."""
    locality, category = one(Locality, key=where), one(ConcernCategory, name=YOUTHS)
    db.session.add_all(Concern(locality=locality, category=category, source="pact", status="new",
                               raised_on=date.today() - timedelta(days=1 + n % 30), you_said=f"{said} {n}")
                       for n in range(count))
    db.session.commit()


def items_of(meeting):
    return db.session.execute(select(AgendaItem).filter_by(meeting_id=meeting.id)
                              .order_by(AgendaItem.position)).scalars().all()


class Ids(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.ids = Counter()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids[value] += 1


@contextmanager
def statements():
    """The SQL statements the database receives meanwhile."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# ---- what the agenda holds ------------------------------------------------------------------------

def test_the_agenda_takes_priorities_then_repeats_then_new_concerns_then_due_tasks(app):
    new_concern(said="Speeding on the Shrewsbury road", name="VEHICLE RELATED - SPEEDING TRAFFIC", is_priority=True)
    original = new_concern(said="Dog fouling by the school", name=DOGS)
    concerns.log_concern(concerns.ConcernInput(category_id=original.category_id, locality_id=original.locality_id,
                                               you_said="Still dog mess by the school gate", repeat_of_id=original.id),
                         by=user("officer"), source="resident_contact", raised_on=date.today())
    db.session.commit()
    new_concern(said="Youths in the car park")
    new_task(due=date.today() + timedelta(days=10))
    order = [kind for kind, _, _, _ in agenda()]
    assert order.index("pact_priority") < order.index("repeat_concern") < order.index("new_concern") \
        < order.index("due_task")


def test_several_residents_at_one_meeting_are_not_a_repeat(app):
    new_concern(said="Dog fouling by the school", name=DOGS, raised_count=4)
    concern_raised(200, said="Dogs on the playing field", name=DOGS, raised_count=6)
    items = agenda()
    assert [(kind, concern) for kind, _, concern, _ in items if kind == "repeat_concern"] == []
    [summary] = [s for kind, s, _, _ in items if "Dog fouling by the school" in s]
    assert "by 4 residents" in summary and "times" not in summary
    # Raised once, long ago, by six residents, and never again: not brought back as a repeat.
    assert not any("Dogs on the playing field" in s for _, s, _, _ in items)


def test_a_concern_raised_again_later_is_a_repeat_saying_how_often_and_since_when(app):
    first = date.today() - timedelta(days=200)
    original = concern_raised(200, said="Dog fouling by the school", name=DOGS, raised_count=3)
    for residents, days_ago in ((2, 40), (1, 5)):  # a later PACT meeting and a resident's call
        item = concerns.ConcernInput(category_id=original.category_id, locality_id=original.locality_id,
                                     you_said="Dog mess again", raised_count=residents, repeat_of_id=original.id)
        if residents == 2:
            concerns.record_pact_meeting(by=user("officer"), locality_id=original.locality_id,
                                         held_on=date.today() - timedelta(days=days_ago), venue="Wem Town Hall",
                                         attendance=12, partner_ids=[], notes="", items=[item])
        else:
            concerns.log_concern(item, by=user("officer"), source="resident_contact",
                                 raised_on=date.today() - timedelta(days=days_ago))
    db.session.commit()
    [(kind, summary, concern_id, _)] = [i for i in agenda() if i[2] == original.id]
    assert kind == "repeat_concern"
    assert f"raised 3 times since {first:%d %b %Y}" in summary and "by 6 residents in all" in summary
    meeting = new_meeting()
    page = text_of(meeting_page(app, meeting))
    assert "Repeat concern" in page and f"raised 3 times since {first:%d %b %Y}" in page


def test_a_concern_recorded_as_a_repeat_of_another_counts_for_it(app):
    original = concern_raised(120, said="Speeding on the A49", name="VEHICLE RELATED - SPEEDING TRAFFIC")
    new_concern(said="Speeding again on the A49", name="VEHICLE RELATED - SPEEDING TRAFFIC",
                repeat_of_id=original.id)
    items = agenda()
    [summary] = [s for kind, s, concern, _ in items if concern == original.id and kind == "repeat_concern"]
    assert "raised 2 times since" in summary
    assert not any("Speeding again on the A49" in s for _, s, _, _ in items)  # counted, not listed twice


# ---- the meeting page, a page at a time ------------------------------------------------------------

def meeting_page(app, meeting, page=None, role="officer"):
    from ..conftest import DEMO_EMAILS, Browser

    person = Browser(app).sign_in(DEMO_EMAILS[role])
    return person.get(f"/tasking/meetings/{meeting.id}" + (f"?page={page}" if page else ""))


def test_the_agenda_is_read_fifty_items_a_page_in_the_chairs_order(app, as_role):
    seeded = len(agenda())  # the seed's police data: the area's largest crime rises
    new_concern(said="Speeding on the Shrewsbury road", name="VEHICLE RELATED - SPEEDING TRAFFIC", is_priority=True)
    many_concerns(119 - seeded)
    meeting = new_meeting()
    officer = as_role("officer")
    first = officer.get(f"/tasking/meetings/{meeting.id}")
    html, text = first.get_data(as_text=True), text_of(first).replace(" :", ":")
    assert html.count('class="portal-ysd"') == 50
    assert "Agenda and decisions (120)" in text and "Items 1 to 50 of 120" in text
    assert "PACT priority: 1 item, 1 without a decision" in text
    assert f"New or accepted concern: {119 - seeded} items, {119 - seeded} without a decision" in text
    assert text.index("PACT priority") < text.index("Speeding on the Shrewsbury road") \
        < text.index("New or accepted concern", text.index("Speeding on the Shrewsbury road"))
    last = officer.get(f"/tasking/meetings/{meeting.id}?page=3")
    assert last.get_data(as_text=True).count('class="portal-ysd"') == 20 and "Items 101 to 120" in text_of(last)
    assert '<ol class="govuk-list portal-agenda" start="101">' in last.get_data(as_text=True)
    assert officer.get(f"/tasking/meetings/{meeting.id}?page=4").status_code == 404
    item = items_of(meeting)[74]
    response = officer.post(f"/tasking/meetings/{meeting.id}/items/{item.id}", {"decision": "noted"})
    assert response.headers["Location"].endswith(f"/tasking/meetings/{meeting.id}?page=2#item-{item.id}")
    assert f"New or accepted concern: {119 - seeded} items, {118 - seeded} without a decision" in text_of(
        officer.get(f"/tasking/meetings/{meeting.id}?page=2")).replace(" :", ":")


def test_the_meeting_page_lists_no_tasks_and_every_id_once(app, as_role):
    many_concerns(8)
    for n in range(30):
        task = new_task(due=date.today() + timedelta(days=60))
        task.title = f"Live task number {n}"
    db.session.commit()
    meeting = new_meeting()
    html = as_role("officer").get(f"/tasking/meetings/{meeting.id}").get_data(as_text=True)
    assert "Live task number" not in html
    assert html.count("<form") >= 8
    assert [i for i, n in Ids(html).ids.items() if n > 1] == []
    item = items_of(meeting)[4]
    assert f'<label class="govuk-label govuk-radios__label" for="item-{item.id}-decision-4">Noted</label>' in html


def test_a_refused_decision_shows_on_its_own_item_with_its_typed_note(app, as_role):
    many_concerns(6)
    meeting = new_meeting()
    items = items_of(meeting)
    fifth, first = items[4], items[0]
    response = as_role("officer").post(f"/tasking/meetings/{meeting.id}/items/{fifth.id}",
                                       {"note": "Typed in item five"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<a href="#item-{fifth.id}-decision">Item 5: Choose a decision</a>' in html
    assert re.search(rf'id="item-{fifth.id}-note"[^>]*>\s*Typed in item five</textarea>', html)
    assert re.search(rf'id="item-{first.id}-note"[^>]*>\s*</textarea>', html)
    assert html.count("Typed in item five") == 1
    response = as_role("officer").post(f"/tasking/meetings/{meeting.id}/items/{fifth.id}",
                                       {"decision": "no_further_action"})
    assert f'<a href="#item-{fifth.id}-note">Item 5: Give the reason for no further action</a>' in \
        response.get_data(as_text=True)
    db.session.refresh(fifth)
    assert fifth.decision is None


@pytest.mark.both_databases
def test_the_meeting_page_costs_the_same_statements_however_long_the_agenda(app, as_role, backend):
    def meeting_with_a_decision():
        meeting = new_meeting()
        first = items_of(meeting)[0]
        meetings.decide(first, by=user("officer"), decision="create_task", task_fields=dict(
            title="Youths at the car park", problem=first.summary, locality_id=one(Locality, key="wem").id,
            lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
            due_on=date.today() + timedelta(days=30)))
        meetings.decide(items_of(meeting)[1], by=user("admin"), decision="noted")
        meetings.add_correction(meeting, by=user("officer"), text="Item 2 was raised by the school")
        db.session.commit()
        return meeting

    def cost(meeting):
        url = f"/tasking/meetings/{meeting.id}"
        with statements() as seen:
            response = officer.get(url)
        assert response.status_code == 200
        return len(seen), len(response.get_data())

    officer = as_role("officer")
    many_concerns(5)
    small = meeting_with_a_decision()
    many_concerns(250, said="Parking on the pavement")
    for _ in range(40):
        new_task(due=date.today() + timedelta(days=20))  # on the agenda as due, and live for the picker
    large = meeting_with_a_decision()
    assert len(items_of(large)) > 290
    (small_count, small_size), (large_count, large_size) = cost(small), cost(large)
    assert large_count == small_count, f"{small_count} statements for 5 items, {large_count} for 290"
    assert large_size < small_size * 12  # one page of 50 items, not the whole agenda


# ---- deciding -------------------------------------------------------------------------------------

def post_decision(person, item, **data):
    return person.post(f"/tasking/meetings/{item.meeting_id}/items/{item.id}", data)


def test_a_task_raised_on_the_spot_gets_supporting_partners_and_a_priority(app, as_role):
    new_concern()
    meeting = new_meeting()
    item = items_of(meeting)[0]
    officer = as_role("officer")
    page = text_of(officer.get(f"/tasking/meetings/{meeting.id}/items/{item.id}"))
    assert "Supporting partners" in page and "Priority" in page
    fire, police = (one(Organisation, name="Shropshire Fire and Rescue Service"),
                    one(Organisation, name=user("officer").organisation.name))
    response = post_decision(officer, item, decision="create_task", on_item_page="1", title="Youths at the park",
                             lead_organisation=str(user("partner").organisation_id), owner=str(user("partner").id),
                             supporting=[str(fire.id), str(police.id)], due_on=FUTURE, priority="high",
                             action=str(plan_action().id), note="Agreed with the youth service")
    assert response.status_code == 302, text_of(response)[-800:]
    task = one(Task, title="Youths at the park")
    assert task.priority == "high" and {o.name for o in task.supporting_organisations} == {fire.name, police.name}
    assert task.concerns == [item.concern] and task.meeting_id == meeting.id
    assert task.action == plan_action()  # the delivery-plan action chosen on the spot
    db.session.refresh(item)
    assert item.decision == "create_task" and item.resulting_task == task


def test_create_a_task_from_the_compact_form_asks_for_its_details_keeping_the_note(app, as_role):
    new_concern()
    meeting = new_meeting()
    item = items_of(meeting)[0]
    officer = as_role("officer")
    response = post_decision(officer, item, decision="create_task", note="Housing to lead")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "For a new task" in text_of(response) and "Housing to lead</textarea>" in html
    assert re.search(rf'id="item-{item.id}-decision" name="decision" type="radio" value="create_task" checked', html)
    assert 'name="on_item_page" type="hidden" value="1"' in html
    response = post_decision(officer, item, decision="create_task", note="Housing to lead", on_item_page="1",
                             title="", owner=str(user("partner").id))
    assert response.status_code == 400
    assert f'<a href="#item-{item.id}-title">Enter a title for the task</a>' in response.get_data(as_text=True)
    assert "Housing to lead" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Task)).scalar_one() == 0


def test_a_typed_task_number_must_be_an_active_task_of_the_meetings_area(app, as_role, new_task_in_south):
    new_concern()
    meeting = new_meeting()
    item = items_of(meeting)[0]
    officer, admin = as_role("officer"), as_role("admin")
    south_task = new_task_in_south("Graffiti on Ludlow market hall")
    closed = new_task()
    closed.status = "closed"
    live = new_task()
    db.session.commit()
    for number, message in ((south_task.id, f"Task {south_task.id} is not an active task of the North area"),
                            (closed.id, f"Task {closed.id} is not an active task of the North area"),
                            ("99999", "Choose one of the area's active tasks to link to"),
                            ("abc", "Choose one of the area's active tasks to link to")):
        response = post_decision(officer, item, decision="link_task", link_task=str(number))
        assert response.status_code == 400, number
        assert f'<a href="#item-{item.id}-link_task">Item 1: ' in response.get_data(as_text=True), number
        assert f"Item 1: {message}" in text_of(response), number
    db.session.refresh(item)
    assert item.decision is None and item.concern.status == "new"
    assert post_decision(admin, item, decision="link_task", link_task=str(live.id)).status_code == 302
    db.session.refresh(item)
    assert item.resulting_task == live and item.concern in live.concerns and item.concern.status == "accepted"


@pytest.fixture
def new_task_in_south(app):
    """A South task (the admin raises it: the North officer may not)."""
    from portal.tasking import tasks

    def make(title):
        task = tasks.create_task(by=user("admin"), title=title, problem="Graffiti",
                                 locality_id=one(Locality, key="ludlow").id,
                                 lead_organisation_id=user("partner").organisation_id, owner_id=user("partner").id,
                                 due_on=date.today() + timedelta(days=14))
        db.session.commit()
        return task

    return make


def test_the_task_picker_finds_the_areas_active_tasks_by_title_or_number(app, as_role, new_task_in_south):
    new_concern()
    meeting = new_meeting()
    item = items_of(meeting)[0]
    tasks = []
    for n in range(25):
        task = new_task()
        task.title = f"Parking at Wem school {n}"
        tasks.append(task)
    tasks[3].status = "closed"
    other = new_task()
    other.title = "Litter in Wem market"
    db.session.commit()
    new_task_in_south("Parking at Ludlow school")
    officer = as_role("officer")
    url = f"/tasking/meetings/{meeting.id}/items/{item.id}"
    page = text_of(officer.get(url + "?q=parking+at"))
    assert page.count("Link to this task") == 20 and "Only the first 20 matches are shown" in page
    assert "Ludlow" not in page and "Litter in Wem market" not in page
    assert "Parking at Wem school 3 " not in page  # closed
    page = text_of(officer.get(url + f"?q={other.id}"))
    assert page.index(f"Task {other.id}: Litter in Wem market") < page.index("Link to this task")
    page = text_of(officer.get(url + "?q=%25"))  # a % is a character to find, not a wildcard
    assert "No open task of the North area matches “%”" in page
    chosen = officer.get(url + f"?q=litter&task={other.id}").get_data(as_text=True)
    assert re.search(rf'id="item-{item.id}-link_task" [^>]*value="{other.id}"', chosen)
    assert re.search(r'type="radio" value="link_task" checked', chosen)


def test_an_overdue_task_escalated_to_silver_is_escalated(app, as_role):
    task = new_task(due=date.today() - timedelta(days=3))
    meeting = new_meeting()
    [item] = [i for i in items_of(meeting) if i.task_id == task.id]
    assert item.kind == "overdue_task"
    assert post_decision(as_role("officer"), item, decision="escalate_silver",
                         note="Needs the county's highways budget").status_code == 302
    db.session.refresh(task)
    assert task.status == "escalated"
    assert "Escalated to Silver at the tasking meeting: Needs the county's highways budget" in \
        [u.text for u in task.updates]


def test_the_item_page_is_for_the_areas_chairs_only(app, as_role, new_task_in_south):
    from ..factories import new_meeting as meeting_of

    new_concern(where="ludlow")
    south = meeting_of(area="south", chair="admin")
    item = items_of(south)[0]
    officer = as_role("officer")
    for response in (officer.get(f"/tasking/meetings/{south.id}/items/{item.id}"),
                     post_decision(officer, item, decision="noted")):
        assert response.status_code == 403 and response.headers["X-Access-Refused"] == "record"
    db.session.refresh(item)
    assert item.decision is None
    assert as_role("admin").get(f"/tasking/meetings/{south.id}/items/{item.id}").status_code == 200


def test_the_meetings_list_counts_each_meetings_items(app, as_role):
    many_concerns(12 - len(agenda()))  # the seeded North area's crime rises and high-harm wards are 8
    new_meeting()
    assert "(12 items)" in text_of(as_role("officer").get("/tasking/meetings/"))
