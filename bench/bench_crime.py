"""Crime import and rollup at scale, on PostgreSQL, against the database doing the same work bare.

    .venv/bin/python bench/bench_crime.py [--rows 1000000 5000000]
    (BENCH_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres by default)

For each size it writes a police.uk-format file by replicating the real October 2018 rows (each
copy with fresh Crime IDs), then measures, in this one run:
  import: the portal's importer (validate, match to wards, COPY in batches) against a plain
          COPY of the same file into a bare table of text columns; rows per second and the ratio;
  memory: the importer's peak resident memory, in a fresh process per size (flat = same for 1M and 5M);
  rollup: the crime unit of the indicator rollup against one hand-written GROUP BY over the same rows.
Targets (issue 5): import at least half of COPY's rows/s, rollup within 2x of the single query,
memory flat in file size.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from common import ROOT, report, seeded_database

ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SOURCE = ROOT / "seed" / "police" / "2018-10-west-mercia-street.csv"


def admin(sql):
    engine = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def database_url(name):
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def generate(path, rows):
    with open(SOURCE, newline="", encoding="utf-8") as fh:
        header, *sample = list(csv.reader(fh))
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        written, copy = 0, 0
        while written < rows:
            for row in sample:
                if written >= rows:
                    break
                if row[0]:
                    row = [f"{copy:08x}{row[0][8:]}"] + row[1:]
                writer.writerow(row)
                written += 1
            copy += 1


def child_import(url, path):
    """Runs in a fresh process: import one file, print rows/s and peak memory as JSON."""
    import resource

    sys.path.insert(0, str(ROOT))
    from portal import create_app
    from portal.config import TestConfig
    from portal.crime.rows import WardMatcher
    from portal.crime.services import import_source
    from portal.crime.sources import Source

    app = create_app(TestConfig(database_url=url))
    with app.app_context():
        matcher = WardMatcher()
        source = Source(Path(path).name, Path(path).stat().st_size, lambda: open(path, "rb"))
        start = time.perf_counter()
        run = import_source(source, matcher=matcher)
        seconds = time.perf_counter() - start
        rows = run.rows
    print(json.dumps({"rows": rows, "seconds": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def plain_copy(url, path):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bare_copy"))
        conn.execute(sa.text("CREATE TABLE bare_copy (" + ", ".join(f"c{i} text" for i in range(12)) + ")"))
    raw = engine.raw_connection()
    start = time.perf_counter()
    with raw.cursor() as cursor, open(path, "rb") as fh:
        with cursor.copy("COPY bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    raw.commit()
    seconds = time.perf_counter() - start
    raw.close()
    engine.dispose()
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    args = parser.parse_args()
    name = "bench_crime"
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(f"CREATE DATABASE {name}")
    url = database_url(name)
    app, _ = seeded_database(url)
    folder = Path(tempfile.mkdtemp())
    results = []
    for rows in args.rows:
        path = folder / f"2018-10-west-mercia-street-{rows}.csv"
        generate(path, rows)
        copy_seconds = plain_copy(url, path)
        child = subprocess.run([sys.executable, __file__, "--child", url, str(path)], capture_output=True, text=True)
        if child.returncode:
            raise SystemExit(child.stderr[-3000:])
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        with app.app_context():
            from datetime import date

            from portal.extensions import db
            from portal.indicators.engine import rollup_source

            start = time.perf_counter()
            # The same rows the rollup reads: the months of its rolling windows, rows placed in a ward.
            db.session.execute(sa.text(
                "SELECT locality_id, crime_type, month, COUNT(*) FROM crime_records "
                "WHERE locality_id IS NOT NULL AND month >= '2017-11-01' AND month <= '2018-10-01' "
                "GROUP BY locality_id, crime_type, month")).all()
            query_seconds = time.perf_counter() - start
            start = time.perf_counter()
            rollup_source("police_crime", date(2018, 10, 1), date(2018, 10, 1))
            rollup_seconds = time.perf_counter() - start
        results.append((rows, copy_seconds, measured, query_seconds, rollup_seconds, path.stat().st_size))
        path.unlink()
    for rows, copy_seconds, measured, query_seconds, rollup_seconds, size in results:
        report(f"{rows:,} rows ({size / 1e6:,.0f} MB), PostgreSQL", [
            ("plain COPY into a bare table (baseline)", rows / copy_seconds, "rows/s", ""),
            ("portal import (validate, match, COPY)", measured["rows"] / measured["seconds"], "rows/s", ""),
            ("ratio import / COPY", measured["rows"] / measured["seconds"] / (rows / copy_seconds), "x",
             "target >= 0.5"),
            ("import peak memory (fresh process)", measured["peak_mb"], "MB", "target: flat in size"),
            ("one hand-written GROUP BY (baseline)", query_seconds, "s", ""),
            ("rollup of the crime indicators", rollup_seconds, "s", ""),
            ("ratio rollup / GROUP BY", rollup_seconds / query_seconds, "x", "target <= 2"),
        ])
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_import(sys.argv[2], sys.argv[3])
    else:
        main()
