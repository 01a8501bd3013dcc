"""Before and after for 1,000 tasks over 5 million crime rows, on PostgreSQL.

    .venv/bin/python bench/bench_evidence.py                      # 1,000 tasks, 5M crime rows
    .venv/bin/python bench/bench_evidence.py --tasks 200 --crime 1M   # a quicker look
    (BENCH_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres by default)

A throwaway database (dropped at the end, also on failure) is migrated and seeded, then grown with
bench_scale.py's own code: concerns and tasks as bulk rows over the seed's places and partners, and the
seed's two real police.uk months shifted to earlier months (COPY) until there are about --crime rows,
each month counted into crime_monthly_counts by the importer's own ``_count_month``. Every task is put in
Response or later, its response dated somewhere in the years of data, its concern's category mapping to
its crime types as seeded. Then, in the same process, the median of --repeat runs of:
  baseline:  one plain SUM over the whole counts table (what any figure over the counts costs at least);
  per task:  evidence_for(task) for each task in turn (a handful of statements per task);
  batched:   evidence_for_tasks(all of them), a handful of statements for all,
and the ratios between them. Figures go in the README ("Before and after, per task").
"""
import argparse
import os
import statistics
import time

import sqlalchemy as sa
from bench_scale import ADMIN, County, admin, amount, grow_concerns_and_tasks, grow_crime
from common import report, seeded_database

RESPONSES_SQL = """
UPDATE tasks SET stage = CASE WHEN id % 2 = 0 THEN 'response' ELSE 'assessment' END;
INSERT INTO task_updates (task_id, at, by_id, text, link, from_stage, to_stage, version, old_value, new_value)
SELECT t.id, CAST(:first AS timestamp) + (t.id * 37 % CAST(:days AS int)) * interval '1 day', t.owner_id,
       'Response began', '', 'analysis', 'response', 1, '', ''
FROM tasks t;
"""


def median_seconds(run, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="1k")
    parser.add_argument("--crime", default="5M")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = f"portal_bench_evidence_{os.getpid()}"
    admin(f"DROP DATABASE IF EXISTS {name}")
    admin(f"CREATE DATABASE {name}")
    try:
        run(ADMIN.rsplit("/", 1)[0] + f"/{name}", amount(args.tasks), amount(args.crime), args.repeat)
    finally:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(url, n_tasks, crime_rows, repeat):
    from portal.evidence import services as evidence
    from portal.extensions import db
    from portal.tasking.models import Task

    began = time.perf_counter()
    app, _ = seeded_database(url)
    with app.app_context():
        grow_concerns_and_tasks(County(), n_tasks)
        grow_crime(crime_rows, {})
        first, last = db.session.execute(sa.text("SELECT min(month), max(month) FROM crime_monthly_counts")).one()
        for statement in RESPONSES_SQL.strip().split(";\n"):
            db.session.execute(sa.text(statement), {"first": first, "days": max(1, (last - first).days - 60)})
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        counted = db.session.execute(sa.text(
            "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM crime_records), "
            "(SELECT count(*) FROM crime_monthly_counts)")).one()
        print(f"{counted[0]:,} tasks, {counted[1]:,} crime rows, {counted[2]:,} monthly counts "
              f"({first:%b %Y} to {last:%b %Y}); built in {time.perf_counter() - began:.0f} s", flush=True)
        tasks = db.session.execute(sa.select(Task)).scalars().all()

        def plain_count():
            db.session.execute(sa.text("SELECT sum(n) FROM crime_monthly_counts")).scalar()

        def per_task():
            for task in tasks:
                evidence.evidence_for(task)

        def batched():
            return evidence.evidence_for_tasks(tasks)

        ready = sum(1 for ev in batched().values() if ev.ready)  # warms the caches the same for all three
        baseline = median_seconds(plain_count, repeat)
        one_by_one = median_seconds(per_task, repeat)
        together = median_seconds(batched, repeat)
    report(f"Before and after for {len(tasks):,} tasks over {counted[1]:,} crime rows "
           f"({ready:,} with figures in both windows; median of {repeat})", [
               ("baseline: one SUM over the whole counts table", baseline * 1000, "ms", ""),
               ("per task: evidence_for() for each task in turn", one_by_one * 1000, "ms", ""),
               ("  per task, each", one_by_one * 1000 / len(tasks), "ms", ""),
               ("batched: evidence_for_tasks(all)", together * 1000, "ms", ""),
               ("  batched, per task", together * 1000 / len(tasks), "ms", ""),
               ("ratio per task / batched", one_by_one / together, "x", ""),
               ("ratio batched / baseline", together / baseline, "x", ""),
           ])
    print(f"\nWhole run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
