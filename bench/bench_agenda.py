"""How long the Bronze tasking agenda takes to build for an area with 5,000 open concerns.

    .venv/bin/python bench/bench_agenda.py [--concerns 5000]
    (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)

Baseline, in the same process: one plain SELECT count(*) of the same open concerns.
"""
import argparse
import random
import time
from datetime import date, timedelta

from common import report, seeded_database


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--concerns", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app, url = seeded_database()
    from sqlalchemy import func, insert, select

    from portal.concerns.models import Concern, ConcernCategory
    from portal.extensions import db
    from portal.places.models import Locality, descendant_ids
    from portal.tasking.agenda import build_agenda

    rng = random.Random(4)
    with app.app_context():
        north = db.session.execute(select(Locality).filter_by(key="north")).scalar_one()
        places = [i for i in db.session.execute(descendant_ids(north.id)).scalars() if i != north.id]
        categories = db.session.execute(select(ConcernCategory.id)).scalars().all()
        today = date.today()
        db.session.execute(insert(Concern), [dict(
            locality_id=rng.choice(places), category_id=rng.choice(categories), source="pact",
            raised_on=today - timedelta(days=rng.randrange(120)), you_said=f"Open concern {i}",
            status=rng.choice(["new", "accepted"]), raised_count=rng.choice([1, 1, 1, 2, 3]),
            is_priority=rng.random() < 0.05, internal_notes="", street="", we_did="", status_reason="",
            published=False, is_demo=True, version_id=1) for i in range(args.concerns)])
        db.session.commit()

        def timed(fn):
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = fn()
                best = min(best, time.perf_counter() - start)
            return best, result

        baseline, counted = timed(lambda: db.session.execute(
            select(func.count()).select_from(Concern).where(Concern.locality_id.in_(descendant_ids(north.id)),
                                                            Concern.status.in_(("new", "accepted")))).scalar_one())
        agenda_time, agenda = timed(lambda: build_agenda(north, today))
    print(f"database: {url.split('://')[0]}, open concerns in the North area: {counted:,}, "
          f"agenda items: {len(agenda):,}")
    report(f"Agenda for the North area (best of {args.repeat})", [
        ("baseline: SELECT count(*) of the open concerns", baseline * 1000, "ms", ""),
        ("build_agenda()", agenda_time * 1000, "ms", ""),
        ("ratio agenda / baseline", agenda_time / baseline, "x", ""),
    ])


if __name__ == "__main__":
    main()
