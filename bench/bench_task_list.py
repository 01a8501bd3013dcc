"""What the task list (/tasks/) costs at 1,000, 10,000 and 100,000 tasks: first page and a middle page,
for an officer (one area, with the review queue) and a partner (one organisation of twenty).

    .venv/bin/python bench/bench_task_list.py [--sizes 1000,10000,100000]
    (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL: an empty database)

For comparison, in the same run: loading every task the person may see, as the list did before paging.
"""
import argparse
import random
import re
import time
from datetime import date, timedelta

from common import report, seeded_database

STATUSES = ["closed"] * 40 + ["completed"] * 30 + ["escalated"] * 5 + ["open"] * 10 + ["in_progress"] * 10 + [
    "blocked"] * 5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app, url = seeded_database()
    from sqlalchemy import event, insert, select, text
    from sqlalchemy.orm import selectinload

    from portal.extensions import db
    from portal.partners.models import Organisation
    from portal.people.models import User
    from portal.places.models import Locality
    from portal.tasking.models import Task
    from portal.tasking.policy import visible_tasks
    from tests.conftest import DEMO_EMAILS, Browser

    rng = random.Random(15)
    today = date.today()
    with app.app_context():
        areas = db.session.execute(select(Locality.id).where(Locality.level == "area")).scalars().all()
        wards = {a: db.session.execute(select(Locality.id).where(Locality.parent_id == a)).scalars().all()
                 for a in areas}
        partner = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["partner"])).scalar_one()
        officer = db.session.execute(select(User).filter_by(email=DEMO_EMAILS["officer"])).scalar_one()
        organisations = [partner.organisation_id] + db.session.execute(
            select(Organisation.id).where(Organisation.id != partner.organisation_id).limit(19)).scalars().all()
        people = {o: partner.id if o == partner.organisation_id else officer.id for o in organisations}
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        officer_web, partner_web = (Browser(app).sign_in(DEMO_EMAILS[r]) for r in ("officer", "partner"))
        rows, made = [], 0
        for size in [int(s) for s in args.sizes.split(",")]:
            batch = []
            for n in range(made, size):
                area = rng.choice(areas)
                status = rng.choice(STATUSES)
                lead = rng.choice(organisations)
                due = today + timedelta(days=rng.randrange(-1500, 60))
                batch.append(dict(
                    title=f"Task {n}", problem="Generated", area_id=area, locality_id=rng.choice(wards[area]),
                    lead_organisation_id=lead, owner_id=people[lead], due_on=due, priority="medium",
                    stage="assessment" if status == "completed" else "scanning", status=status,
                    victim="", offender="", location="", blocked_reason="", assessment="", we_did="",
                    completed_on=due if status == "completed" else None,
                    published=status == "completed" and rng.random() < 0.97, version_id=1))
            for start in range(0, len(batch), 5000):
                db.session.execute(insert(Task), batch[start:start + 5000])
            db.session.commit()
            if db.engine.dialect.name == "postgresql":  # as autovacuum would, before anyone reads the list
                db.session.execute(text("ANALYZE tasks"))
                db.session.commit()
            made = size
            for who, web in (("officer", officer_web), ("partner", partner_web)):
                person = db.session.execute(select(User).filter_by(email=DEMO_EMAILS[who])).scalar_one()
                middle = middle_token(db, select, Task, visible_tasks(person))

                def page(path, web=web):
                    statements.clear()
                    start = time.perf_counter()
                    response = web.get(path)
                    assert response.status_code == 200
                    return time.perf_counter() - start, len(statements), len(response.get_data())

                first = min(page("/tasks/") for _ in range(args.repeat))
                mid = min(page(f"/tasks/?after={middle}") for _ in range(args.repeat))

                def load_everything(person=person):
                    start = time.perf_counter()
                    db.session.execute(visible_tasks(person).options(
                        selectinload(Task.lead_organisation), selectinload(Task.owner), selectinload(Task.area))
                        .order_by(Task.due_on, Task.id)).scalars().all()
                    db.session.expunge_all()
                    db.session.add(person)
                    return time.perf_counter() - start

                everything = min(load_everything() for _ in range(args.repeat))
                rows.append((size, who, first, mid, everything))
    print(f"database: {url.split('://')[0]}")
    for size, who, first, mid, everything in rows:
        report(f"{size:,} tasks, {who} (best of {args.repeat})", [
            ("page 1: server time", first[0] * 1000, "ms", f"{first[1]} statements, {first[2] / 1024:.0f} KiB"),
            ("middle page: server time", mid[0] * 1000, "ms", f"{mid[1]} statements, {mid[2] / 1024:.0f} KiB"),
            ("before paging: loading every visible task", everything * 1000, "ms", ""),
        ])


def middle_token(db, select, Task, visible):
    """The page link of the middle of the person's Closed tasks (the biggest group): a middle page."""
    ids = db.session.execute(visible.with_only_columns(Task.due_on, Task.id).where(Task.status == "closed")
                             .order_by(Task.due_on, Task.id)).all()
    due_on, ident = ids[len(ids) // 2]
    token = f"closed.{due_on.isoformat()}.{ident}"
    assert re.fullmatch(r"closed\.\d{4}-\d\d-\d\d\.\d+", token)
    return token


if __name__ == "__main__":
    main()
