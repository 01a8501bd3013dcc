"""Crime import and rollup at scale, on PostgreSQL, against the database doing the same work bare.

    .venv/bin/python bench/bench_crime.py [--rows 1000000 5000000] [--index brin|btree] [--repeat 3]
    (BENCH_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres by default)

For each size it writes a police.uk-format file by replicating the real October 2018 rows (each copy
with fresh Crime IDs), and the same rows as the importer stores them. Then, in this one run, a few
rounds (``--repeat``), each into a month (or table) of its own, so no timing deletes an earlier run's
rows, in an order that alternates from one round to the next; the figures are the rounds' medians:
  import:      the portal's importer (read, validate, match to wards, COPY, counts, repeated IDs), in a
               fresh process (its peak memory: flat = the same at every size);
  same-table:  a COPY of the importer's rows into crime_records with its indexes (the fair floor), as CSV;
  same-table binary: the same rows in PostgreSQL's binary format, which the import sends;
  bare COPY:   a COPY of the raw file into a plain table of text columns.
After them: the replace check of a month not held yet, the months list, and the rollup of the imported
month (the indicators engine; then four reruns of it, whose median is steadier than one timing on a
shared machine) next to one hand-written GROUP BY over the monthly counts.
``--index btree`` puts back the composite B-tree (month, locality_id, crime_type) that the BRIN index
replaced, to measure both. Targets (issue 15): import >= 0.7 of the same-table COPY and >= 0.5 of the
bare COPY; memory flat in file size; the rollup of one month under 0.3 s at 5M rows.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from common import ROOT, report, seeded_database

ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SOURCE = ROOT / "seed" / "police" / "2018-10-west-mercia-street.csv"
COLUMNS = "month, force, crime_id, crime_type, lsoa_code, lat, lon, locality_id, import_id"


def admin(sql):
    engine = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def database_url(name):
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def replicate(sample, rows, crime_id_at, write):
    """``rows`` rows made by repeating ``sample``, each copy with fresh Crime IDs."""
    written, copy = 0, 0
    while written < rows:
        for row in sample:
            if written >= rows:
                return
            if row[crime_id_at]:
                row = row[:crime_id_at] + [f"{copy:08x}{row[crime_id_at][8:]}"] + row[crime_id_at + 1:]
            write(row)
            written += 1
        copy += 1


def generate(app, raw_path, stored_path, rows, import_month, floor_month):
    """The police.uk file for the import, and the same rows as the importer stores them (another month)."""
    from portal.crime.rows import WardMatcher, parse_rows

    with open(SOURCE, newline="", encoding="utf-8") as fh:
        header, *sample = list(csv.reader(fh))
    month_text = f"{import_month:%Y-%m}"
    with open(raw_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        replicate([r[:1] + [month_text] + r[2:] for r in sample], rows, 0, writer.writerow)
    with app.app_context(), open(SOURCE, "rb") as binary:
        parsed = [list(values) for number, values, _ in parse_rows(SOURCE.name, binary, WardMatcher(), 0)
                  if number != "start"]
    for row in parsed:
        row[0], row[-1] = floor_month.isoformat(), 1
    with open(stored_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)  # None -> empty -> NULL
        replicate(parsed, rows, 2, writer.writerow)


def child_import(url, path):
    """Runs in a fresh process: import one file, print its seconds and peak memory as JSON."""
    import resource

    sys.path.insert(0, str(ROOT))
    from portal import create_app
    from portal.config import TestConfig
    from portal.crime import services
    from portal.crime.rows import WardMatcher
    from portal.crime.sources import Source

    app = create_app(TestConfig(database_url=url))
    with app.app_context():
        matcher = WardMatcher()
        source = Source(Path(path).name, Path(path).stat().st_size, lambda: open(path, "rb"))
        start = time.perf_counter()
        run = services.import_source(source, matcher=matcher)
        seconds = time.perf_counter() - start
        rows = run.rows
    print(json.dumps({"rows": rows, "seconds": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def portal_import(url, path):
    child = subprocess.run([sys.executable, __file__, "--child", url, str(path)], capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(child.stderr[-3000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def binary_copy(url, stored_path, binary_path):
    """The stored rows in PostgreSQL's binary COPY format (the import's), made by the server itself."""
    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    with raw.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE stored_rows AS SELECT " + COLUMNS + " FROM crime_records LIMIT 0")
        with open(stored_path, "rb") as fh, cursor.copy("COPY stored_rows FROM STDIN WITH (FORMAT csv)") as copy:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        with open(binary_path, "wb") as out, cursor.copy("COPY stored_rows TO STDOUT WITH (FORMAT binary)") as copy:
            for chunk in copy:
                out.write(chunk)
    raw.rollback()
    raw.close()
    engine.dispose()


def copy_file(url, path, into, header):
    """Seconds to COPY a file into a table, committed (``header`` None: the file is in binary format)."""
    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    start = time.perf_counter()
    how = "FORMAT binary" if header is None else f"FORMAT csv, HEADER {str(header).lower()}"
    with raw.cursor() as cursor, open(path, "rb") as fh:
        with cursor.copy(f"COPY {into} FROM STDIN WITH ({how})") as copy:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    raw.commit()
    seconds = time.perf_counter() - start
    raw.close()
    engine.dispose()
    return seconds


def timed(app, sql, **params):
    from portal.extensions import db

    with app.app_context():
        start = time.perf_counter()
        db.session.execute(sa.text(sql), params).all()
        seconds = time.perf_counter() - start
        db.session.rollback()
    return seconds


def rate(result, what):
    """Rows per second of one of the timings, the median of the rounds."""
    return result["rows"] / statistics.median(round_[what] for round_ in result["rounds"])


def spread(result, baseline):
    """The import's ratio to a baseline round by round (each round's timings a few seconds apart)."""
    ratios = [round_[baseline] / round_["imported"] for round_ in result["rounds"]]
    return f"rounds {min(ratios):.2f}-{max(ratios):.2f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--index", choices=("brin", "btree"), default="brin")
    parser.add_argument("--repeat", type=int, default=3, choices=range(1, 12), metavar="1-11",
                        help="rounds per size, each into a month of its own (figures: the median)")
    args = parser.parse_args()
    name = "bench_crime"
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(f"CREATE DATABASE {name}")
    url = database_url(name)
    app, _ = seeded_database(url)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    if args.index == "btree":
        with engine.connect() as conn:
            conn.execute(sa.text("DROP INDEX ix_crime_records_month"))
            conn.execute(sa.text("CREATE INDEX ix_crime_records_month_locality_type "
                                 "ON crime_records (month, locality_id, crime_type)"))
    folder = Path(tempfile.mkdtemp())
    results = []
    for n, rows in enumerate(args.rows):
        first_month, floor_month = date(2030 + n, 1, 1), date(2030 + n, 12, 1)
        template, stored_path = folder / "template.csv", folder / "stored.csv"
        generate(app, template, stored_path, rows, first_month, floor_month)
        binary_path = folder / "stored.bin"
        binary_copy(url, stored_path, binary_path)
        rounds = []
        for r in range(args.repeat):  # each round imports a month of its own: no timing deletes rows
            import_month = date(2030 + n, 1 + r, 1)
            raw_path = folder / f"{import_month:%Y-%m}-west-mercia-street.csv"
            with open(template, "rb") as source, open(raw_path, "wb") as out:
                old, new = f",{first_month:%Y-%m},".encode(), f",{import_month:%Y-%m},".encode()
                out.writelines(line.replace(old, new, 1) for line in source)
            with engine.connect() as conn:  # outside every timing: a plain table for the bare COPY, statistics
                conn.execute(sa.text(f"CREATE TABLE bare_copy_{n}_{r} (" + ", ".join(f"c{i} text" for i in range(12))
                                     + ")"))
                conn.execute(sa.text("VACUUM ANALYZE crime_records"))
            runs = {
                "import": (portal_import, url, raw_path),
                "same-table": (copy_file, url, stored_path, f"crime_records ({COLUMNS})", False),
                "same-table binary": (copy_file, url, binary_path, f"crime_records ({COLUMNS})", None),
                "bare": (copy_file, url, raw_path, f"bare_copy_{n}_{r}", True),
            }
            order = list(runs) if (n + r) % 2 == 0 else list(reversed(runs))
            measured = {what: runs[what][0](*runs[what][1:]) for what in order}
            rounds.append(dict(order=order, imported=measured["import"]["seconds"], peak=measured["import"]["peak_mb"],
                               floor=measured["same-table"], binary_floor=measured["same-table binary"],
                               bare=measured["bare"]))
            raw_path.unlink()
        if args.index == "brin":  # the same-table COPYs left their pages unsummarised; the imports' wait for autovacuum
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT brin_summarize_new_values('ix_crime_records_month')"))
        with app.app_context():
            from portal.crime.services import months_imported
            from portal.indicators.engine import rollup_source

            start = time.perf_counter()
            months_imported()
            months_seconds = time.perf_counter() - start
            rollup_seconds = []  # the import's own rollup (the month's first), then four reruns of it
            for _ in range(5):
                start = time.perf_counter()
                rollup_source("police_crime", import_month, import_month)
                rollup_seconds.append(time.perf_counter() - start)
        check_seconds = timed(app, "SELECT id FROM crime_records WHERE force = 'West Mercia Police' "
                                   "AND month = :month FOR UPDATE", month=date(2040, 1, 1))
        query_seconds = timed(app, "SELECT locality_id, crime_type, month, SUM(n) FROM crime_monthly_counts "
                                   "WHERE month >= :start AND month <= :end GROUP BY locality_id, crime_type, month",
                              start=date(import_month.year - 1, 2, 1), end=import_month)
        with engine.connect() as conn:
            table_rows = conn.execute(sa.text("SELECT count(*) FROM crime_records")).scalar()
        results.append(dict(rows=rows, size=template.stat().st_size, rounds=rounds, table_rows=table_rows,
                            months=months_seconds, rollup=rollup_seconds, check=check_seconds, query=query_seconds))
        template.unlink()
        stored_path.unlink()
        binary_path.unlink()
    engine.dispose()
    for r in results:
        imported, floor, binary_floor, bare = (rate(r, what) for what in ("imported", "floor", "binary_floor", "bare"))
        orders = "; ".join(" / ".join(round_["order"]) for round_ in r["rounds"])
        report(f"{r['rows']:,} rows ({r['size'] / 1e6:,.0f} MB), PostgreSQL, {args.index} index on month, "
               f"{len(r['rounds'])} rounds ({orders}), {r['table_rows']:,} rows in crime_records after", [
                   ("portal import (read, validate, match, COPY, counts)", imported, "rows/s", "median"),
                   ("COPY of the stored rows into crime_records (fair floor)", floor, "rows/s", "median"),
                   ("the same rows as binary COPY into crime_records", binary_floor, "rows/s", "median"),
                   ("bare COPY of the file into a text table", bare, "rows/s", "median"),
                   ("ratio import / same-table COPY", imported / floor, "x", f"target >= 0.7; {spread(r, 'floor')}"),
                   ("ratio import / same-table binary COPY", imported / binary_floor, "x",
                    f"as the import sends them; {spread(r, 'binary_floor')}"),
                   ("ratio import / bare COPY", imported / bare, "x", f"target >= 0.5; {spread(r, 'bare')}"),
                   ("import peak memory (fresh process)", max(round_["peak"] for round_ in r["rounds"]), "MB",
                    "target: flat in size"),
                   ("replace check of a month not held", r["check"] * 1000, "ms", ""),
                   ("months list (imports page, assessment)", r["months"] * 1000, "ms", ""),
                   ("rollup of the imported month", r["rollup"][0], "s", "target < 0.3"),
                   ("the same rollup again (median of 4 reruns)", statistics.median(r["rollup"][1:]), "s", ""),
                   ("one hand-written GROUP BY of its 12 months' counts", r["query"], "s", ""),
               ])
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child_import(sys.argv[2], sys.argv[3])
    else:
        main()
