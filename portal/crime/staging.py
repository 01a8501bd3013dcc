"""The PostgreSQL path of the importer: COPY the file as it is into a temporary table, check every
row with one SQL pass, and insert it in one INSERT ... SELECT that also ties rows to wards.

Python then touches each row only as bytes in 1 MB chunks, so the import runs close to the speed of
a bare COPY. The checks and their messages are the same as the row-by-row path in services.py
(tests/test_crime.py runs every bad-file case on both).
"""
import csv
import io
import re

import psycopg
from sqlalchemy import text

from ..errors import ImportRejected
from ..extensions import db
from .categories import SLUGS

NUMBER = r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
LINE = re.compile(r"line (\d+)")


def _row_at(source, row):
    """The values of one row of the file (read again only to word an error)."""
    with source.opener() as binary:
        reader = csv.reader(io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline=""))
        for values in reader:
            if reader.line_num == row:
                return values
    return []


def _copy_error(source, width, error):
    context = getattr(error.diag, "context", "") or ""
    found = LINE.search(context)
    row = int(found.group(1)) + 1 if found else None  # COPY counts from the first data line
    message = error.diag.message_primary or str(error)
    if "invalid byte sequence" in message:
        byte = re.search(r"0x([0-9a-f]{2})", message)
        return ImportRejected(source.name, row=row, reason=f"the file is not UTF-8 text (byte 0x{byte.group(1) if byte else '??'}); "
                                                           "police.uk files are UTF-8")
    if "extra data" in message or "missing data" in message:
        values = _row_at(source, row) if row else []
        return ImportRejected(source.name, row=row, reason=f"has {len(values)} values, the header has {width}")
    return ImportRejected(source.name, row=row, reason=f"is not valid CSV ({message})")


def import_file(source, stream, header, run, matcher, counter, progress):
    """Load, check and insert one file inside the caller's transaction. Returns (rows, matched)."""
    from .services import MONTH, REQUIRED  # noqa: F401  (the same rules as the row-by-row path)

    width = len(header)
    col = {name: f"c{header.index(name)}" for name in REQUIRED}
    columns = [f"c{i}" for i in range(width)]
    db.session.execute(text(
        "CREATE TEMP TABLE crime_staging (line_no bigint GENERATED ALWAYS AS IDENTITY, "
        + ", ".join(f"{c} text" for c in columns) + ") ON COMMIT DROP"))
    raw = db.session.connection().connection.driver_connection
    try:
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY crime_staging ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                while chunk := stream.read(1 << 20):
                    copy.write(chunk)
                    if progress:
                        progress(counter.count, source.size)
    except (psycopg.errors.DataError, psycopg.errors.BadCopyFileFormat, psycopg.errors.CharacterNotInRepertoire,
            psycopg.errors.UntranslatableCharacter) as error:
        raise _copy_error(source, width, error) from None

    m, f, t, lon, lat, lsoa, cid = (f"trim({col[k]})" for k in
                                    ("Month", "Reported by", "Crime type", "Longitude", "Latitude", "LSOA code", "Crime ID"))
    first = db.session.execute(text(f"SELECT line_no, {m}, {f} FROM crime_staging ORDER BY line_no LIMIT 1")).first()
    if first is None:
        raise ImportRejected(source.name, reason="the file has a header but no rows")
    names = list(SLUGS)
    checks = db.session.execute(text(f"""
        SELECT
          MIN(CASE WHEN {m} !~ '^[0-9]{{4}}-(0[1-9]|1[0-2])$' THEN line_no END),
          MIN(CASE WHEN {m} <> :first_month THEN line_no END),
          MIN(CASE WHEN NOT ({t} = ANY(:names)) THEN line_no END),
          MIN(CASE WHEN ({lon} = '') <> ({lat} = '') THEN line_no END),
          MIN(CASE WHEN {lat} <> '' AND NOT (CASE WHEN {lat} ~ :number THEN {lat}::float BETWEEN -90 AND 90 ELSE false END)
              THEN line_no END),
          MIN(CASE WHEN {lon} <> '' AND NOT (CASE WHEN {lon} ~ :number THEN {lon}::float BETWEEN -180 AND 180 ELSE false END)
              THEN line_no END),
          MIN(CASE WHEN {lsoa} <> '' AND {lsoa} !~ '^[EW]0[0-9]{{7}}$' THEN line_no END)
        FROM crime_staging"""), {"first_month": first[1], "names": names, "number": NUMBER}).one()
    bad_month, other_month, bad_type, half_point, bad_lat, bad_lon, bad_lsoa = checks
    problems = [(line, order) for order, line in enumerate(checks) if line is not None]
    if problems:
        line, order = min(problems)
        row = line + 1
        value = db.session.execute(text(
            f"SELECT {m}, {t}, {lon}, {lat}, {lsoa} FROM crime_staging WHERE line_no = :line"), {"line": line}).one()
        month_text, kind, lon_text, lat_text, lsoa_text = value
        if order == 0:
            raise ImportRejected(source.name, row=row, column="Month", reason=f"'{month_text}' is not a month like 2018-10")
        if order == 1:
            raise ImportRejected(source.name, row=row, column="Month",
                                 reason=f"{month_text} differs from the file's month {first[1]}: "
                                        "police.uk files hold one month each")
        if order == 2:
            raise ImportRejected(source.name, row=row, column="Crime type", reason=f"unknown crime type '{kind}'")
        if order == 3:
            raise ImportRejected(source.name, row=row, column="Latitude" if lon_text else "Longitude",
                                 reason="is empty while the other coordinate is given")
        if order == 4:
            raise ImportRejected(source.name, row=row, column="Latitude", reason=f"'{lat_text}' is not a latitude")
        if order == 5:
            raise ImportRejected(source.name, row=row, column="Longitude", reason=f"'{lon_text}' is not a longitude")
        raise ImportRejected(source.name, row=row, column="LSOA code", reason=f"'{lsoa_text}' is not an LSOA code")
    if not first[2]:
        raise ImportRejected(source.name, row=first[0] + 1, column="Reported by", reason="is empty")
    duplicate = db.session.execute(text(
        f"SELECT MIN(line_no), MAX(line_no) FROM crime_staging WHERE {cid} <> '' GROUP BY {cid} "
        "HAVING COUNT(*) > 1 ORDER BY 1 LIMIT 1")).first()
    if duplicate:
        crime_id = db.session.execute(text(f"SELECT {cid} FROM crime_staging WHERE line_no = :l"),
                                      {"l": duplicate[0]}).scalar()
        raise ImportRejected(source.name, row=duplicate[1] + 1, column="Crime ID",
                             reason=f"repeats row {duplicate[0] + 1} (Crime ID {crime_id[:16]}...)")

    from datetime import date

    year, month = map(int, first[1].split("-"))
    run.month, run.force = date(year, month, 1), first[2]
    run.replaced = db.session.execute(text("DELETE FROM crime_records WHERE force = :force AND month = :month"),
                                      {"force": run.force, "month": run.month}).rowcount
    types = ", ".join(f"('{name.replace(chr(39), chr(39) * 2)}', '{slug}')" for name, slug in SLUGS.items())
    rows = db.session.execute(text(f"""
        INSERT INTO crime_records (month, force, crime_id, crime_type, lsoa_code, lat, lon, locality_id, import_id)
        SELECT :month, :force, NULLIF({cid}, ''), ct.slug, NULLIF({lsoa}, ''), NULLIF({lat}, '')::float,
               NULLIF({lon}, '')::float, w.ward_id, :import_id
        FROM crime_staging s
        JOIN (VALUES {types}) AS ct(name, slug) ON ct.name = {t}
        LEFT JOIN (SELECT ll.lsoa_code, ll.locality_id AS ward_id FROM locality_lsoas ll
                   JOIN localities lo ON lo.id = ll.locality_id WHERE lo.level = 'ward') w
               ON w.lsoa_code = NULLIF({lsoa}, '')"""),
        {"month": run.month, "force": run.force, "import_id": run.id}).rowcount
    # Rows with a point but no LSOA (a few a month): placed by the ward boundaries, in Python.
    loose = db.session.execute(text("SELECT id, lat, lon FROM crime_records WHERE import_id = :id "
                                    "AND lsoa_code IS NULL AND lat IS NOT NULL"), {"id": run.id}).all()
    placed = [{"id": i, "ward": matcher.match(None, la, lo)} for i, la, lo in loose]
    placed = [p for p in placed if p["ward"] is not None]
    if placed:
        db.session.execute(text("UPDATE crime_records SET locality_id = :ward WHERE id = :id"), placed)
    matched = db.session.execute(text("SELECT COUNT(*) FROM crime_records WHERE import_id = :id "
                                      "AND locality_id IS NOT NULL"), {"id": run.id}).scalar_one()
    return rows, matched
