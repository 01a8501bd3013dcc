"""The review loop: a partner completes a task, the area's officers are told (with a link that opens from
an email client), the task waits first on their list and home page, oldest first, counted in the header;
and the task list pages at a cost that does not grow with the number of tasks."""
import email
import email.policy
import re
import socketserver
import threading
import uuid
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from portal.config import Config, ConfigError
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.people.models import User
from portal.places.models import Locality
from portal.tasking.models import Task

from ..conftest import DEMO_EMAILS, Browser, text_of
from ..factories import new_task, one, user

PORTAL = "https://safety.shropshire.example/portal"


def complete(browser, task, we_did="A Friday youth club started and patrols were increased"):
    db.session.refresh(task)
    return browser.post(f"/tasks/{task.id}/update", {
        "version": str(task.version_id), "stage": task.stage, "status": "completed",
        "assessment": "Calls about the park fell from 12 to 2 a month", "we_did": we_did})


def officer_in(area_key, email):
    """Another officer, of ``area_key``, who signs in with the demo password."""
    from seed.loaders import DEMO_PASSWORD

    person = User(email=email, display_name=f"PC {area_key.title()}", role="officer",
                  organisation_id=user("officer").organisation_id)
    person.set_password(DEMO_PASSWORD)
    person.areas = [one(Locality, key=area_key)]
    db.session.add(person)
    db.session.commit()
    return person


def messages(kind):
    db.session.expire_all()
    return db.session.execute(select(OutboxMessage).filter_by(kind=kind).order_by(OutboxMessage.id)).scalars().all()


def test_completing_a_task_asks_only_the_areas_officers_to_review_it_with_an_absolute_link(app, as_role):
    app.config["PORTAL_URL"] = PORTAL
    north_colleague = officer_in("north", "second.north@shropshire.example")
    officer_in("south", "south@shropshire.example")
    task = new_task()
    assert complete(as_role("partner"), task).status_code == 302
    asked = messages("review")
    assert sorted(m.to_email for m in asked) == sorted([DEMO_EMAILS["officer"], north_colleague.email])
    assert asked[0].subject == "Awaiting your review: Youths at the recreation ground"
    assert "A Friday youth club started" in asked[0].body
    assert f"Review it: {PORTAL}/tasks/{task.id}" in asked[0].body
    # a later note on the completed task asks nobody again
    db.session.refresh(task)
    as_role("partner").post(f"/tasks/{task.id}/update", {"version": str(task.version_id), "stage": task.stage,
                                                         "status": task.status, "text": "Photos added"})
    assert len(messages("review")) == 2


def test_every_notification_links_to_its_page_at_the_portal_url(app, as_role):
    from portal.tasking.reminders import overdue_reminders, weekly_digest

    app.config["PORTAL_URL"] = PORTAL
    task = new_task(due=date.today() - timedelta(days=3))  # assigned: the partner is told
    as_role("officer").post(f"/tasks/{task.id}/update", {"version": str(task.version_id), "stage": "scanning",
                                                         "status": "open", "text": "Patrols booked"})
    overdue_reminders()
    weekly_digest()
    db.session.commit()
    link = f"{PORTAL}/tasks/{task.id}"
    for kind in ("assigned", "update", "overdue", "digest"):
        bodies = [m.body for m in messages(kind)]
        assert bodies and all(link in body for body in bodies), kind
    assert f"All of them: {PORTAL}/tasks/" in messages("digest")[0].body
    # no message holds a link without the portal's address
    assert not any(re.search(r"(?<![\w/.])/tasks/\d", m.body) for m in db.session.execute(
        select(OutboxMessage)).scalars())


def test_portal_url_comes_from_the_environment_and_must_be_an_address(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("PORTAL_URL", raising=False)
    assert Config().PORTAL_URL == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "8000")
    assert Config().PORTAL_URL == "http://127.0.0.1:8000"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://safety.shropshire.gov.uk")
    assert Config().PORTAL_URL == "https://safety.shropshire.gov.uk"
    monkeypatch.setenv("PORTAL_URL", "https://staff.shropshire.gov.uk/")
    assert Config().PORTAL_URL == "https://staff.shropshire.gov.uk"
    for wrong in ("staff.shropshire.gov.uk", "ftp://staff.shropshire.gov.uk", "https://x.example/?a=1"):
        monkeypatch.setenv("PORTAL_URL", wrong)
        with pytest.raises(ConfigError, match="PORTAL_URL"):
            Config()


def completed_task(app, title, completed_days_ago, where="wem"):
    """A task the partner completed ``completed_days_ago``, waiting for review (raised by the admin)."""
    from portal.tasking.tasks import create_task

    partner = user("partner")
    task = create_task(by=user("admin"), title=title, problem="Raised for the review queue",
                       locality_id=one(Locality, key=where).id, lead_organisation_id=partner.organisation_id,
                       owner_id=partner.id, due_on=date.today() + timedelta(days=10))
    db.session.commit()
    assert complete(Browser(app).sign_in(DEMO_EMAILS["partner"]), task).status_code == 302
    db.session.refresh(task)
    task.completed_on = date.today() - timedelta(days=completed_days_ago)
    db.session.commit()
    return task


def test_awaiting_review_comes_first_oldest_first_with_a_count_in_the_header(app, as_role):
    new_task().title = "Still open"
    db.session.commit()
    recent = completed_task(app, "Completed yesterday", 1)
    oldest = completed_task(app, "Completed last week", 7)
    officer = as_role("officer")

    tasks_page = text_of(officer.get("/tasks/"))
    assert "Tasks 2 awaiting your review" in tasks_page  # the header's count, read out in full
    review = tasks_page.index("Awaiting your review (2, oldest first)")
    assert review < tasks_page.index("Completed last week") < tasks_page.index("Completed yesterday")
    assert tasks_page.index("Completed yesterday") < tasks_page.index("Open Task Lead") < tasks_page.index("Still open")

    home = text_of(officer.get("/concerns/?mine=1"))  # where an officer lands after signing in
    assert home.index("Awaiting your review (2, oldest first)") < home.index("Completed last week") \
        < home.index("Completed yesterday")

    # a partner sees their completed tasks under "Completed", and no review queue or count
    partner_page = text_of(as_role("partner").get("/tasks/"))
    assert "Awaiting your review" not in partner_page and "Completed Task Lead" in partner_page

    db.session.refresh(oldest)
    assert officer.post(f"/tasks/{oldest.id}/review", {"version": str(oldest.version_id)}).status_code == 302
    tasks_page = text_of(officer.get("/tasks/"))
    assert "Tasks 1 awaiting your review" in tasks_page and "Awaiting your review (1, oldest first)" in tasks_page
    assert tasks_page.index("Completed yesterday") < tasks_page.index("Completed Task Lead") \
        < tasks_page.index("Completed last week")
    db.session.refresh(recent)
    officer.post(f"/tasks/{recent.id}/review", {"version": str(recent.version_id)})
    tasks_page = text_of(officer.get("/tasks/"))
    assert "awaiting your review" not in tasks_page.lower()
    assert "Awaiting your review" not in text_of(officer.get("/concerns/?mine=1"))


def test_another_areas_completed_task_waits_for_that_areas_officers_only(app, as_role):
    south = officer_in("south", "south@shropshire.example")
    completed_task(app, "Ludlow market hall", 2, where="ludlow")
    assert "Awaiting your review" not in text_of(as_role("officer").get("/tasks/"))
    south_page = text_of(Browser(app).sign_in(south.email).get("/tasks/"))
    assert "Tasks 1 awaiting your review" in south_page and "Ludlow market hall" in south_page
    assert "Tasks 1 awaiting your review" in text_of(as_role("admin").get("/tasks/"))


# ---- paging, and what a page costs --------------------------------------------------------------

STATUSES = ("open", "in_progress", "blocked", "completed", "escalated", "closed")


def many_tasks(count):
    """``count`` tasks of the North for the partner's organisation, spread over every group: overdue and
    not, each status, some completed ones waiting for review. Inserted directly (fast); commits."""
    partner, wem = user("partner"), one(Locality, key="wem")
    today = date.today()
    for n in range(count):
        status = STATUSES[n % len(STATUSES)]
        done = status == "completed"
        db.session.add(Task(
            title=f"Bulk task {n:05d}", problem="Made for paging", area_id=wem.area.id, locality_id=wem.id,
            lead_organisation_id=partner.organisation_id, owner_id=partner.id, status=status,
            due_on=today + timedelta(days=(n * 7) % 61 - 30), published=done and n % 4 != 3,
            completed_on=today - timedelta(days=n % 9) if done else None))
    db.session.commit()


def walk(browser, url="/tasks/"):
    """Follow "Next" from the first page to the last: [(url, [(heading, [titles])])]."""
    pages = []
    while url:
        html = browser.get(url).get_data(as_text=True)
        pages.append((url, headings_and_titles(html)))
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    return pages


def headings_and_titles(html):
    groups = []
    for part in re.split(r'<h2 class="govuk-heading-m" id="group-\d+">', html)[1:]:
        heading = re.sub(r"<[^>]+>", "", part.split("</h2>")[0]).strip()
        groups.append((heading, re.findall(r'href="/tasks/\d+">([^<]+)</a>', part.split("</table>")[0])))
    return groups


def expected_order(viewer):
    """Every task the viewer sees, in the list's order, computed the slow way from all of them."""
    today = date.today()
    tasks = db.session.execute(select(Task)).scalars().all()
    reviewer = viewer.is_officer or viewer.is_admin

    def group(t):
        if reviewer and t.status == "completed" and not t.published:
            return (0, t.completed_on)
        if t.is_overdue(today):
            return (1, t.due_on)
        return (2 + STATUSES.index(t.status), t.due_on)

    return [t.title for t in sorted(tasks, key=lambda t: (*group(t), t.id))]


@pytest.mark.parametrize("role", ("officer", "partner"))
def test_the_task_list_pages_through_every_task_once_in_order_and_back(app, as_role, role):
    many_tasks(80)
    person = as_role(role)
    pages = walk(person)
    assert len(pages) == 4  # 80 tasks, 25 a page
    seen = [title for _, groups in pages for _, titles in groups for title in titles]
    assert seen == expected_order(user(role))
    # a group running over a page break says so on the next page
    assert any(heading.endswith("(continued)") for _, groups in pages[1:] for heading, _ in groups[:1])
    headings = [heading.split(" (")[0] for _, groups in pages for heading, _ in groups]
    in_turn = [h for i, h in enumerate(headings) if i == 0 or headings[i - 1] != h]
    assert in_turn == (["Awaiting your review"] if role == "officer" else []) + [
        "Overdue", "Open", "In progress", "Blocked", "Completed", "Escalated to Silver", "Closed"]
    # "Previous" from the last page walks back through the very same pages
    html = person.get(pages[-1][0]).get_data(as_text=True)
    back = []
    while (found := re.search(r'href="([^"]+)" rel="prev"', html)):
        html = person.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
        back.append(headings_and_titles(html))
    assert back == [groups for _, groups in reversed(pages[:-1])]


def test_a_page_link_that_is_not_one_shows_the_first_page(app, as_role):
    many_tasks(30)
    partner = as_role("partner")
    first = headings_and_titles(partner.get("/tasks/").get_data(as_text=True))
    for token in ("x", "open.2026-13-01.5", "open.2026-01-01.-5", "nothing.2026-01-01.5", "open.2026-01-01.99999999999",
                  "open.2026-01-01.٣"):
        for name in ("after", "before"):
            response = partner.get(f"/tasks/?{name}={token}")
            assert response.status_code == 200 and headings_and_titles(response.get_data(as_text=True)) == first


@contextmanager
def counted_statements():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def page_costs(person):
    """Statements run by the first page and by a middle page (the third) of the list."""
    with counted_statements() as first:
        html = person.get("/tasks/").get_data(as_text=True)
    for _ in range(2):
        html = person.get(re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")).get_data(
            as_text=True)
    middle_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    with counted_statements() as middle:
        person.get(middle_url)
    return first, middle


@pytest.mark.both_databases
def test_a_task_list_page_costs_the_same_statements_at_any_size(app, backend):
    officer, partner = (Browser(app).sign_in(DEMO_EMAILS[role]) for role in ("officer", "partner"))
    many_tasks(150)
    small = {role: page_costs(person) for role, person in (("officer", officer), ("partner", partner))}
    many_tasks(600)
    large = {role: page_costs(person) for role, person in (("officer", officer), ("partner", partner))}
    # the user, (an officer's areas, the header's count), the filter form's areas and partners, the page's ids,
    # its tasks, their leads, owners, areas
    pinned = {"officer": 10, "partner": 8}
    for role in small:
        for at_size_small, at_size_large in zip(small[role], large[role], strict=True):
            assert len(at_size_small) == len(at_size_large) == pinned[role], (role, at_size_large)
    # the header's count is one statement, not one per task
    officer_first = large["officer"][0]
    assert sum("count(" in s.lower() for s in officer_first) == 1
    # no statement reads tasks without a LIMIT but the one loading the page's own tasks by id
    unbounded = [s for s in officer_first if "FROM tasks" in s and "LIMIT" not in s.upper()
                 and "count(" not in s.lower() and "tasks.id IN" not in s]
    assert unbounded == []


# ---- through a real worker: the review request reaches the officer's mailbox ----------------------

class MailSink(socketserver.ThreadingTCPServer):
    """The smallest SMTP server a client can send to: it keeps each message's recipients and text."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.received = []
        super().__init__(("127.0.0.1", 0), SmtpHandler)


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        self.reply("220 sink ESMTP")
        recipients, data = [], None
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data is not None:
                if line == ".":
                    message = email.message_from_string("\n".join(data), policy=email.policy.default)
                    self.server.received.append({"to": recipients, "text": f"Subject: {message['Subject']}\n"
                                                                           f"{message.get_content()}",
                                                 "headers": dict(message.items())})
                    recipients, data = [], None
                    self.reply("250 queued")
                else:
                    data.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                data = []
                self.reply("354 go on")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def mail_sink():
    sink = MailSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


@pytest.mark.worker
def test_through_a_real_worker_the_officer_receives_the_review_request_with_its_link(
        worker_database, worker_redis_url, mail_sink, monkeypatch, tmp_path):
    from portal import create_app
    from portal.config import TestConfig
    from portal.tasking.tasks import create_task

    from ..conftest import start_worker, stop_worker

    queue = f"review-{uuid.uuid4().hex[:8]}"
    for name, value in (("MAIL_SERVER", "127.0.0.1"), ("MAIL_PORT", str(mail_sink.server_address[1])),
                        ("MAIL_USE_TLS", "0"), ("PORTAL_URL", PORTAL)):
        monkeypatch.setenv(name, value)  # the worker's settings, as production gives them
    worker = start_worker(worker_database, worker_redis_url, queue, tmp_path / "worker.log")
    app = create_app(TestConfig(database_url=worker_database, redis_url=worker_redis_url))
    app.config.update(PORTAL_URL=PORTAL, MAIL_SERVER=None)  # the web process only writes to the outbox
    celery = app.extensions["celery"]
    celery.conf.task_default_queue = queue
    celery.set_current()
    celery.set_default()
    try:
        with app.app_context():
            # The worker's database is shared by the session's worker tests: only this test's mail goes out.
            db.session.execute(OutboxMessage.__table__.update().where(OutboxMessage.sent_at.is_(None))
                               .values(error="left by an earlier test"))
            officer = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one()
            partner = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["partner"])).scalar_one()
            wem = db.session.execute(select(Locality.id).filter_by(key="wem")).scalar_one()
            title, still_open = (f"Worker review {uuid.uuid4().hex[:6]}", f"Worker digest {uuid.uuid4().hex[:6]}")
            task, other = (create_task(by=officer, title=t, problem="For the worker test", locality_id=wem,
                                       lead_organisation_id=partner.organisation_id, owner_id=partner.id,
                                       due_on=date.today() + timedelta(days=7)) for t in (title, still_open))
            db.session.commit()

            assert complete(Browser(app).sign_in(partner.email), task).status_code == 302  # enqueues the delivery
            review = wait_for(mail_sink, f"Awaiting your review: {title}")
            assert [m["to"] for m in review] == [[officer.email]]
            assert f"Review it: {PORTAL}/tasks/{task.id}" in review[0]["text"]
            db.session.expire_all()
            sent = db.session.execute(select(OutboxMessage).filter_by(kind="review", to_email=officer.email)
                                      .where(OutboxMessage.subject.contains(title))).scalar_one()
            assert sent.sent_at is not None and sent.error == ""

            # The weekly digest is written by the worker itself, with no request: its links are absolute too.
            next_year = (date.today() + timedelta(days=364)).isoformat()
            assert celery.tasks["notifications.weekly_digest"].delay(next_year).get(timeout=60) >= 1
            digest = [m for m in wait_for(mail_sink, f"- {still_open} (due") if partner.email in m["to"]]
            text = digest[0]["text"]
            assert f"{PORTAL}/tasks/{other.id}" in text and f"All of them: {PORTAL}/tasks/" in text
            db.session.remove()
            db.engine.dispose()
    finally:
        stop_worker(worker)


def wait_for(sink, text, seconds=60):
    """The messages the sink received that contain ``text``, waiting for the first of them."""
    import time

    until = time.monotonic() + seconds
    while time.monotonic() < until:
        found = [m for m in sink.received if text in m["text"]]
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"no message with {text!r} arrived; received: {[m['text'][:200] for m in sink.received]}")
