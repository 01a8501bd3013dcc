"""Importing police.uk street-level crime files: streamed, validated, all-or-nothing per file.

A file is one force's month. Importing a month again replaces it. Rows are
read one at a time and written in batches (COPY on PostgreSQL), so memory
stays flat however large the file; one bad row rolls the whole file back and
the message names the file, row, column and reason.
"""
import csv
import io
import logging
import re
import shutil
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shapely import STRtree
from shapely.geometry import Point, shape
from sqlalchemy import delete, func, insert, select

from ..errors import ImportRejected
from ..extensions import db
from ..models import utcnow
from ..places.models import Locality, LocalityLsoa
from .categories import SLUGS
from .models import CrimeImport, CrimeMonthlyCount, CrimeRecord

log = logging.getLogger(__name__)

REQUIRED = ("Crime ID", "Month", "Reported by", "Longitude", "Latitude", "LSOA code", "Crime type")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
LSOA = re.compile(r"^[EW]0\d{7}$")
COLUMNS = ("month", "force", "crime_id", "crime_type", "lsoa_code", "lat", "lon", "locality_id", "import_id")
BATCH = 5000
# police.uk rows are a few hundred characters; a longer line is refused as soon as it passes this.
MAX_LINE = 65_536
MAX_TEXT = 80  # Crime ID and Reported by: the columns' String(80)
# police.uk CSVs deflate about 8:1; a zip bomb inflates thousands of times. Checked while inflating.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024  # tiny members may compress better than that without harm
MAX_NAME = 255  # CrimeImport.file_name


class WardMatcher:
    """Ties a row to a ward: by its LSOA code, or else by its point inside a ward boundary."""

    def __init__(self):
        rows = db.session.execute(select(LocalityLsoa.lsoa_code, Locality.id).join(Locality)
                                  .where(Locality.level == "ward")).all()
        self.by_lsoa = dict(rows)
        wards = db.session.execute(select(Locality.id, Locality.boundary).where(
            Locality.level == "ward", Locality.boundary.is_not(None))).all()
        self.ward_ids = [ward_id for ward_id, _ in wards]
        self.shapes = [shape(boundary) for _, boundary in wards]
        self.tree = STRtree(self.shapes) if self.shapes else None

    def match(self, lsoa, lat, lon):
        if lsoa:  # police.uk has already placed the row: outside our LSOAs means outside Shropshire
            return self.by_lsoa.get(lsoa)
        if lat is None or self.tree is None:
            return None
        point = Point(lon, lat)
        for index in self.tree.query(point):
            if self.shapes[index].covers(point):
                return self.ward_ids[index]
        return None


class _NotUtf8(Exception):
    """Raised mid-stream; the importer then finds the exact line (text is decoded in chunks)."""


def _first_bad_line(source):
    with source.opener() as binary:
        for number, line in enumerate(binary, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return number, line[error.start]
    return None, 0


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file, for progress bars."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        buffer[:len(data)] = data
        self.count += len(data)
        return len(data)


@dataclass
class Source:
    name: str
    size: int
    opener: object  # () -> binary file object


def _display_name(text):
    """A file's name as the import history keeps it (String(255)): long names keep their end."""
    return text if len(text) <= MAX_NAME else "..." + text[-(MAX_NAME - 3):]


def _max_inflated():
    from flask import current_app

    return current_app.config.get("MAX_INFLATED_MB", 4096) * 1024 * 1024


def sources(paths):
    """Each CSV to import, from CSV files and zips of monthly files, in name order.

    Raises ImportRejected for a file that is not a zip though named .zip, a zip with no CSV, or a zip
    holding two files of the same force and month (importing both would keep only the last).
    """
    found = []
    for path in map(Path, paths):
        if path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as archive:
                    members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv") and not m.is_dir()]
            except (zipfile.BadZipFile, OSError, EOFError):
                raise ImportRejected(_display_name(path.name), reason="is not a zip file, or the zip is damaged") from None
            if not members:
                raise ImportRejected(_display_name(path.name), reason="the zip holds no CSV files")
            members.sort(key=lambda m: m.filename)
            _refuse_repeated_months(path, members)
            for member in members:
                found.append(Source(_display_name(f"{path.name}:{member.filename}"), member.file_size,
                                    lambda p=path, m=member.filename: _zip_member(p, m)))
        else:
            found.append(Source(_display_name(path.name), path.stat().st_size, lambda p=path: open(p, "rb")))
    return found


def _first_row(path, member):
    """(month, force) of a member's first row, or None when it cannot tell (the import then says why)."""
    try:
        with _zip_member(path, member) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            lines = [text.readline(MAX_LINE + 1), text.readline(MAX_LINE + 1)]
    except (ImportRejected, UnicodeDecodeError, ValueError):
        return None
    try:
        header, row = list(csv.reader(lines))[:2]
    except (csv.Error, ValueError):
        return None
    header = [h.strip() for h in header]
    if "Month" not in header or "Reported by" not in header or len(row) != len(header):
        return None
    return row[header.index("Month")].strip(), row[header.index("Reported by")].strip()


def _refuse_repeated_months(path, members):
    seen = {}
    for member in members:
        key = _first_row(path, member.filename)
        if key is None:
            continue
        if key in seen:
            raise ImportRejected(_display_name(path.name), reason=(
                f"{seen[key]} and {member.filename} both hold {key[1]}'s {key[0]}: a zip may hold each "
                "force's month once (importing both would keep only the last)"))
        seen[key] = member.filename


class _Inflating(io.RawIOBase):
    """A zip member read with limits on what it inflates to, counted as it inflates (a zip's header
    can claim any size): at most MAX_INFLATED_MB, and at most MAX_RATIO times its compressed size."""

    def __init__(self, archive, member, name):
        self.archive, self.name = archive, name
        try:
            self.handle = archive.open(member)
        except (RuntimeError, NotImplementedError, zipfile.BadZipFile) as error:  # encrypted, unknown method
            archive.close()
            raise ImportRejected(name, reason=f"cannot be read from the zip ({error})") from None
        self.compressed = max(archive.getinfo(member).compress_size, 1)
        self.limit, self.count = _max_inflated(), 0

    def readable(self):
        return True

    def readinto(self, buffer):
        try:
            data = self.handle.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ImportRejected(self.name, reason=f"the zip is damaged ({error})") from None
        self.count += len(data)
        if self.count > self.limit:
            raise ImportRejected(self.name, reason=f"inflates to more than {self.limit // (1024 * 1024):,} MB "
                                                   "(MAX_INFLATED_MB): refused")
        if self.count > RATIO_FLOOR and self.count > MAX_RATIO * self.compressed:
            raise ImportRejected(self.name, reason=f"inflates more than {MAX_RATIO} times its compressed size: "
                                                   "this is not a police.uk file (a zip bomb?)")
        buffer[:len(data)] = data
        return len(data)

    def close(self):
        if not self.closed:
            try:
                self.handle.close()
            finally:
                self.archive.close()
        super().close()


def _zip_member(path, member):
    """The member as a buffered file object, inflated within limits; closing it closes the archive too."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ImportRejected(_display_name(path.name), reason="is not a zip file, or the zip is damaged") from None
    return io.BufferedReader(_Inflating(archive, member, _display_name(f"{path.name}:{member}")))


def discard_uploads(paths, upload_dir):
    """Remove uploaded files (and the folder each upload got) once imported or refused.
    Only files inside ``upload_dir``: the CLI's own files are never touched."""
    root = Path(upload_dir).resolve()
    for path in map(Path, paths):
        folder = path.resolve().parent
        if folder.parent == root:
            shutil.rmtree(folder, ignore_errors=True)
        elif root in path.resolve().parents:
            path.unlink(missing_ok=True)


def _number(value, low, high, name, column, row):
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ImportRejected(name, row=row, column=column, reason=f"'{value}' is not a {column.lower()}")
    return number


def _lines(name, text):
    """The file's lines, each refused as soon as it passes MAX_LINE characters (or holds a NUL, which
    no text column can store), so one endless line never fills memory."""
    number = 0
    while True:
        line = text.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise ImportRejected(name, row=number, reason=f"is longer than {MAX_LINE:,} characters: "
                                                          "this is not a police.uk street-level crime file")
        if "\x00" in line:
            raise ImportRejected(name, row=number, reason="holds a NUL character: this is not a text file")
        yield line


def _rows(name, binary, matcher, import_id):
    """Validated rows of one file as tuples of COLUMNS; yields (row number, tuple, matched)."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.reader(_lines(name, text))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise ImportRejected(name, reason="the file is empty")
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ImportRejected(name, row=1, reason=f"missing column(s) {', '.join(missing)}: "
                                                    "this is not a police.uk street-level crime file")
        at = {column: header.index(column) for column in REQUIRED}
        width = len(header)
        file_month = force = month_text_seen = None
        good_lsoas = set()  # codes already checked (a month touches a few thousand)
        i_month, i_type, i_lon, i_lat, i_lsoa, i_id = (at["Month"], at["Crime type"], at["Longitude"], at["Latitude"],
                                                       at["LSOA code"], at["Crime ID"])
        for row in reader:
            number = reader.line_num
            if not row:
                continue
            if len(row) != width:
                raise ImportRejected(name, row=number, reason=f"has {len(row)} values, the header has {width}")
            month_text = row[i_month]
            if month_text == month_text_seen:
                month = file_month
            else:
                month_text = month_text.strip()
                match = MONTH.match(month_text)
                if not match:
                    raise ImportRejected(name, row=number, column="Month",
                                         reason=f"'{month_text}' is not a month like 2018-10")
                month = date(int(match.group(1)), int(match.group(2)), 1)
            if file_month is None:
                file_month, force = month, row[at["Reported by"]].strip()
                if not force:
                    raise ImportRejected(name, row=number, column="Reported by", reason="is empty")
                if len(force) > MAX_TEXT:
                    raise ImportRejected(name, row=number, column="Reported by",
                                         reason=f"is longer than {MAX_TEXT} characters")
                yield "start", (file_month, force), None
                month_text_seen = row[i_month]
            elif month != file_month:
                raise ImportRejected(name, row=number, column="Month",
                                     reason=f"{month_text} differs from the file's month {file_month:%Y-%m}: "
                                            "police.uk files hold one month each")
            kind = SLUGS.get(row[i_type]) or SLUGS.get(row[i_type].strip())
            if kind is None:
                raise ImportRejected(name, row=number, column="Crime type",
                                     reason=f"unknown crime type '{row[i_type].strip()}'")
            lon_text, lat_text = row[i_lon].strip(), row[i_lat].strip()
            if bool(lon_text) != bool(lat_text):
                raise ImportRejected(name, row=number, column="Latitude" if lon_text else "Longitude",
                                     reason="is empty while the other coordinate is given")
            lat = _number(lat_text, -90, 90, name, "Latitude", number) if lat_text else None
            lon = _number(lon_text, -180, 180, name, "Longitude", number) if lon_text else None
            lsoa = row[i_lsoa].strip() or None
            if lsoa and lsoa not in good_lsoas:
                if not LSOA.match(lsoa):
                    raise ImportRejected(name, row=number, column="LSOA code", reason=f"'{lsoa}' is not an LSOA code")
                good_lsoas.add(lsoa)
            ward = matcher.match(lsoa, lat, lon)
            crime_id = row[i_id].strip() or None
            if crime_id and len(crime_id) > MAX_TEXT:
                raise ImportRejected(name, row=number, column="Crime ID",
                                     reason=f"is {len(crime_id):,} characters long; a Crime ID has at most {MAX_TEXT}")
            yield number, (month, force, crime_id, kind, lsoa, lat, lon, ward, import_id), ward is not None
    except UnicodeDecodeError:
        raise _NotUtf8() from None
    except csv.Error as error:
        raise ImportRejected(name, row=reader.line_num, reason=f"is not valid CSV ({error})") from None


class _Writer:
    """Batches rows into the database: one COPY stream per file on PostgreSQL (the server stores
    rows while Python reads the next ones, on another core), executemany elsewhere."""

    def __init__(self):
        connection = db.session.connection()
        self.postgres = connection.dialect.name == "postgresql"
        self.raw = connection.connection.driver_connection if self.postgres else None
        self.batch, self.cursor, self.copy = [], None, None

    def add(self, values):
        self.batch.append(values)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self):
        if not self.batch:
            return
        if self.postgres:
            if self.copy is None:
                self.cursor = self.raw.cursor()
                self._copy_context = self.cursor.copy(
                    f"COPY crime_records ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)")
                self.copy = self._copy_context.__enter__()
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(self.batch)  # None -> empty -> NULL
            self.copy.write(buffer.getvalue())
        else:
            db.session.execute(insert(CrimeRecord.__table__), [dict(zip(COLUMNS, v)) for v in self.batch])
        self.batch = []

    def close(self, failed=False):
        """Finish the COPY stream (the server then reports any error in the data)."""
        if not failed:
            self.flush()
        if self.copy is not None:
            error = (RuntimeError, RuntimeError("import abandoned"), None) if failed else (None, None, None)
            try:
                self._copy_context.__exit__(*error)
            finally:
                self.cursor.close()
                self.copy = None


def import_source(source, *, by=None, matcher=None, progress=None, hold_seconds=0):
    """Import one file whole, replacing its force's month. Commits; raises ImportRejected with nothing saved.
    ``hold_seconds``: tests pause here, mid-file, to kill the worker."""
    matcher = matcher or WardMatcher()
    run = CrimeImport(file_name=source.name, by_id=getattr(by, "id", None))
    db.session.add(run)
    db.session.flush()
    counter = CountingReader(source.opener())
    writer = None
    try:
        writer = _Writer()
        rows = matched = 0
        for number, values, is_matched in _rows(source.name, io.BufferedReader(counter), matcher, run.id):
            if number == "start":
                run.month, run.force = values
                run.replaced = db.session.execute(delete(CrimeRecord).where(
                    CrimeRecord.force == run.force, CrimeRecord.month == run.month)).rowcount
                db.session.execute(delete(CrimeMonthlyCount).where(
                    CrimeMonthlyCount.force == run.force, CrimeMonthlyCount.month == run.month))
                continue
            writer.add(values)
            rows += 1
            if hold_seconds and rows == 1:
                time.sleep(hold_seconds)  # the crash tests kill the worker here, mid-transaction
            matched += is_matched
            if progress and rows % 2000 == 0:
                progress(counter.count, source.size)
        writer.close()
        if rows == 0:
            raise ImportRejected(source.name, reason="the file has a header but no rows")
        _count_month(run)
        run.repeated_ids, run.quality_note = _repeated_ids(source, run)
        run.rows, run.matched, run.unmatched = rows, matched, rows - matched
        run.status, run.finished_at = "done", utcnow()
        db.session.commit()
    except _NotUtf8:
        _abandon(writer)
        db.session.rollback()
        row, byte = _first_bad_line(source)
        raise ImportRejected(source.name, row=row, reason=f"the file is not UTF-8 text (byte 0x{byte:02x}); "
                                                          "police.uk files are UTF-8") from None
    except Exception:
        _abandon(writer)
        db.session.rollback()
        raise
    finally:
        counter.raw.close()
    if progress:
        progress(source.size, source.size)
    return run


def _abandon(writer):
    if writer is not None:
        try:
            writer.close(failed=True)
        except Exception:  # the transaction is rolled back next anyway
            pass


def _count_month(run):
    """The month x ward x type counts of the rows just written, in the same transaction."""
    r = CrimeRecord
    db.session.execute(insert(CrimeMonthlyCount).from_select(
        ["month", "locality_id", "crime_type", "force", "n"],
        select(r.month, r.locality_id, r.crime_type, r.force, func.count())
        .where(r.month == run.month, r.force == run.force, r.locality_id.is_not(None))
        .group_by(r.month, r.locality_id, r.crime_type, r.force)))


def _repeated_ids(source, run, shown=5):
    """(how many Crime IDs appear on more than one row, a note naming their rows).

    police.uk sometimes gives one Crime ID to two different records (another place, another
    outcome): both are real records, so both are kept and counted; the analyst is told. Found in
    SQL after loading, so memory stays flat; only when there are some is the file read again to
    name the rows.
    """
    repeated = db.session.execute(
        select(CrimeRecord.crime_id).where(CrimeRecord.month == run.month, CrimeRecord.force == run.force,
                                           CrimeRecord.crime_id.is_not(None))
        .group_by(CrimeRecord.crime_id).having(func.count() > 1).order_by(CrimeRecord.crime_id)).scalars().all()
    if not repeated:
        return 0, ""
    named = set(repeated[:shown])
    rows = {}
    with source.opener() as binary:
        reader = csv.reader(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        at = [h.strip() for h in next(reader)].index("Crime ID")
        for row in reader:
            if len(row) > at and row[at].strip() in named:
                rows.setdefault(row[at].strip(), []).append(reader.line_num)
    listed = "; ".join(f"rows {', '.join(map(str, rows.get(crime_id, [])))} share Crime ID {crime_id[:12]}..."
                       for crime_id in repeated[:shown])
    more = f"; and {len(repeated) - shown} more" if len(repeated) > shown else ""
    return len(repeated), (f"{len(repeated)} Crime ID{'s' if len(repeated) != 1 else ''} appear on more than one "
                           f"row; every row was imported and counted ({listed}{more}).")


def record_rejection(source_name, message, by=None):
    """Keep a line in the import history for a refused file (none of its rows are saved)."""
    db.session.add(CrimeImport(file_name=_display_name(source_name), status="rejected", message=message,
                               by_id=getattr(by, "id", None), finished_at=utcnow()))
    db.session.commit()


def import_paths(paths, *, by=None, progress=None, hold_seconds=0):
    """Import every file; a refused file changes nothing, the others still import. Returns (runs, errors)."""
    matcher = WardMatcher()
    runs, errors, found = [], [], []
    for path in paths:
        try:
            found.extend(sources([path]))
        except ImportRejected as error:
            record_rejection(error.file, error.message, by)
            errors.append(error)
    for source in found:
        try:
            runs.append(import_source(source, by=by, matcher=matcher, hold_seconds=hold_seconds,
                                      progress=(lambda done, total, s=source: progress(s, done, total)) if progress else None))
            log.info("Imported %s: %s rows for %s", source.name, runs[-1].rows, runs[-1].month,
                     extra={"file": source.name, "month": runs[-1].month, "rows": runs[-1].rows})
        except ImportRejected as error:
            record_rejection(source.name, error.message, by)
            errors.append(error)
            log.info("Refused %s", error.message, extra={"file": source.name, "refused": error.message})
    return runs, errors


def months_imported():
    return [m for (m,) in db.session.execute(select(CrimeRecord.month).distinct().order_by(CrimeRecord.month))]


def recent_imports(limit=50):
    return db.session.execute(select(CrimeImport).order_by(CrimeImport.id.desc()).limit(limit)).scalars().all()
