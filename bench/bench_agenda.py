"""The Bronze tasking meeting at scale: the agenda built for an area, and the chair's meeting pages, at
100 agenda items and 100 live tasks (the baseline), then 1,000 and 10,000 of each, in one process.

    .venv/bin/python bench/bench_agenda.py [--scales 100,1000,10000] [--repeat 5]
    (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL; a throwaway SQLite file otherwise)

Each scale tops the North area up with open concerns and live (open, in progress, blocked) tasks, bulk
inserts of the rows the portal's services write, until its agenda has that many items and the area that
many live tasks (a tenth of them due before the next meeting, so on the agenda). It then opens a meeting
through the portal's own service (``open_meeting``: the agenda built and saved), records three decisions,
and, signed in as the North officer, requests what the chair uses: the meeting page (its first and its
last page), an item's decision page and that page's task search. Per page: the server time (best of
--repeat, the whole request in process: routing, queries, rendering), the HTML size and the number of
SQL statements. The ratios compare each scale with the 100-item baseline of the same run.
"""
import argparse
import random
import re
import time
from datetime import date, timedelta

from common import report, seeded_database


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    app, url = seeded_database()
    from sqlalchemy import event, func, insert, select

    from portal.concerns.models import Concern, ConcernCategory
    from portal.extensions import db
    from portal.people.models import User
    from portal.places.models import Locality, descendant_ids
    from portal.tasking import meetings
    from portal.tasking.agenda import build_agenda
    from portal.tasking.models import ACTIVE_STATUSES, AgendaItem, Task

    rng = random.Random(4)
    today = date.today()
    statements = []
    with app.app_context():
        engine = db.engine
        north = db.session.execute(select(Locality).filter_by(key="north")).scalar_one()
        places = [i for i in db.session.execute(descendant_ids(north.id)).scalars() if i != north.id]
        categories = db.session.execute(select(ConcernCategory.id)).scalars().all()
        officer = db.session.execute(select(User).filter_by(role="officer")).scalars().first()
        partner = db.session.execute(select(User).filter_by(role="partner")).scalars().first()
        north_id, officer_id, officer_email = north.id, officer.id, officer.email
        partner_id, partner_organisation_id = partner.id, partner.organisation_id
    event.listen(engine, "before_cursor_execute", lambda *_: statements.append(1))
    # Requests run outside any app context of the bench's, so each has its own session and user, as in production.
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    from seed.loaders import DEMO_PASSWORD

    assert client.post("/login", data={"email": officer_email, "password": DEMO_PASSWORD,
                                       "csrf_token": token}).status_code == 302

    def live_tasks():
        return db.session.execute(select(func.count()).select_from(Task).where(
            Task.area_id == north_id, Task.status.in_(ACTIVE_STATUSES))).scalar_one()

    def add_tasks(count):
        if count:
            db.session.execute(insert(Task), [dict(
                area_id=north_id, locality_id=rng.choice(places), title=f"Problem-solving task {n} at the shops",
                problem="Gatherings most nights", lead_organisation_id=partner_organisation_id, owner_id=partner_id,
                due_on=today + timedelta(days=rng.randrange(1, 28) if n % 10 == 0 else rng.randrange(60, 365)),
                priority=rng.choice(["high", "medium", "low"]), stage="scanning",
                status=rng.choice(ACTIVE_STATUSES), created_by_id=officer_id, version_id=1)
                for n in range(count)])

    def add_concerns(count):
        if count:
            db.session.execute(insert(Concern), [dict(
                locality_id=rng.choice(places), category_id=rng.choice(categories), source="pact",
                raised_on=today - timedelta(days=rng.randrange(80)), you_said=f"Open concern {n} near the shops",
                status=rng.choice(["new", "accepted"]), raised_count=rng.choice([1, 1, 1, 2, 3]),
                is_priority=rng.random() < 0.01, internal_notes="", street="", we_did="", status_reason="",
                published=False, is_demo=True, version_id=1) for n in range(count)])

    def timed(fn):
        best, count, result = float("inf"), 0, None
        for _ in range(args.repeat):
            statements.clear()
            start = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - start)
            count = len(statements)
        return best, count, result

    def page(path):
        def get():
            response = client.get(path)
            return len(response.get_data()) if response.status_code == 200 else float("nan")
        seconds, count, size = timed(get)
        return seconds * 1000, size, count

    results = {}
    for scale in scales:
        with app.app_context():
            north = db.session.get(Locality, north_id)
            add_tasks(max(0, scale - live_tasks()))
            db.session.commit()
            add_concerns(max(0, scale - len(build_agenda(north, today))))
            db.session.commit()
            agenda_ms = timed(lambda area=north: build_agenda(area, today))[0] * 1000
            start = time.perf_counter()
            meeting = meetings.open_meeting(by=db.session.get(User, officer_id), area_id=north_id, held_on=today)
            db.session.commit()
            open_ms = (time.perf_counter() - start) * 1000
            items = db.session.execute(select(AgendaItem).filter_by(meeting_id=meeting.id)
                                       .order_by(AgendaItem.position)).scalars().all()
            for item in items[:3]:
                meetings.decide(item, by=db.session.get(User, officer_id), decision="noted", note="Seen by the group")
            db.session.commit()
            count, tasks, item_id = len(items), live_tasks(), items[10].id
            last = (count - 1) // meetings.AGENDA_PAGE_SIZE + 1
            base = f"/tasking/meetings/{meeting.id}"
        results[scale] = {
            "items": count, "live tasks": tasks, "build_agenda()": (agenda_ms, None, None),
            "open_meeting() (build and save)": (open_ms, None, None),
            "meeting page 1": page(base),
            "meeting page, the last": page(f"{base}?page={last}"),
            "item decision page": page(f"{base}/items/{item_id}"),
            "item page, task search 'shops'": page(f"{base}/items/{item_id}?q=shops"),
        }

    print(f"database: {url.split('://')[0]}; North area; per page the best of {args.repeat} requests")
    baseline = results[scales[0]]
    for scale in scales:
        figures = results[scale]
        rows = [("agenda items", figures["items"], "", ""), ("live tasks of the area", figures["live tasks"], "", "")]
        for what, figure in figures.items():
            if not isinstance(figure, tuple):
                continue
            ms, size, count = figure
            ratio = ms / baseline[what][0]
            target = "(target < 300 ms)" if what == "meeting page 1" else ""
            rows.append((what, ms, "ms", f"x{ratio:.2f} of {scales[0]} {target}"))
            if size is not None:
                rows.append(("  HTML", size / 1024, "KiB", ""))
                rows.append(("  SQL statements", count, "", f"({baseline[what][2]} at {scales[0]})"))
        report(f"{scale:,} agenda items", rows)


if __name__ == "__main__":
    main()
