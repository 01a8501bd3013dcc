"""The rows of a police.uk street-level crime file: read line by line, each validated and tied to a
ward, then written in batches. One bad row refuses the file; the message names its row and column."""
import csv
import io
import re
from datetime import date

from shapely import STRtree
from shapely.geometry import Point, shape
from sqlalchemy import insert, select

from ..errors import ImportRejected
from ..extensions import db
from ..places.models import Locality, LocalityLsoa
from .categories import SLUGS
from .models import CrimeRecord
from .sources import MAX_LINE

REQUIRED = ("Crime ID", "Month", "Reported by", "Longitude", "Latitude", "LSOA code", "Crime type")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
LSOA = re.compile(r"^[EW]0\d{7}$")
COLUMNS = ("month", "force", "crime_id", "crime_type", "lsoa_code", "lat", "lon", "locality_id", "import_id")
BATCH = 5000
MAX_TEXT = 80  # Crime ID and Reported by: the columns' String(80)


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


class NotUtf8(Exception):
    """Raised mid-stream; the importer then finds the exact line (text is decoded in chunks)."""


def first_bad_line(source):
    with source.opener() as binary:
        for number, line in enumerate(binary, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return number, line[error.start]
    return None, 0


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


def parse_rows(name, binary, matcher, import_id):
    """Validated rows of one file as tuples of COLUMNS: first ("start", (month, force), None), then
    (row number, tuple, matched a ward) for each row. Raises ImportRejected at the first bad row, or
    NotUtf8 when the text is not UTF-8."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.reader(_lines(name, text))
    try:
        width, (i_month, i_force, i_type, i_lon, i_lat, i_lsoa, i_id) = _columns(name, next(reader, None))
        file_month = force = month_text_seen = None
        good_lsoas = set()  # codes already checked (a month touches a few thousand)
        for row in reader:
            number = reader.line_num
            if not row:
                continue
            if len(row) != width:
                raise ImportRejected(name, row=number, reason=f"has {len(row)} values, the header has {width}")
            if row[i_month] != month_text_seen:  # the first row, or a month written differently
                if file_month is None:
                    file_month, force = _month(name, number, row[i_month]), _force(name, number, row[i_force])
                    month_text_seen = row[i_month]
                    yield "start", (file_month, force), None
                else:
                    _same_month(name, number, row[i_month], file_month)
            kind = SLUGS.get(row[i_type]) or _crime_type(name, number, row[i_type])
            lat, lon = _coordinates(name, number, row[i_lat], row[i_lon])
            lsoa = row[i_lsoa].strip() or None
            if lsoa and lsoa not in good_lsoas:
                good_lsoas.add(_lsoa(name, number, lsoa))
            ward = matcher.match(lsoa, lat, lon)
            crime_id = row[i_id].strip() or None
            if crime_id and len(crime_id) > MAX_TEXT:
                raise ImportRejected(name, row=number, column="Crime ID",
                                     reason=f"is {len(crime_id):,} characters long; a Crime ID has at most {MAX_TEXT}")
            yield number, (file_month, force, crime_id, kind, lsoa, lat, lon, ward, import_id), ward is not None
    except UnicodeDecodeError:
        raise NotUtf8() from None
    except csv.Error as error:
        raise ImportRejected(name, row=reader.line_num, reason=f"is not valid CSV ({error})") from None


# Each check below runs once per file, or only when a row differs from the rows before it; the
# per-row path above stays a few lookups long (bench/bench_crime.py measures it).

def _columns(name, header):
    """(width, positions of Month, Reported by, Crime type, Longitude, Latitude, LSOA code, Crime ID)."""
    if not header or not any(h.strip() for h in header):
        raise ImportRejected(name, reason="the file is empty")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRejected(name, row=1, reason=f"missing column(s) {', '.join(missing)}: "
                                                "this is not a police.uk street-level crime file")
    return len(header), tuple(header.index(column) for column in (
        "Month", "Reported by", "Crime type", "Longitude", "Latitude", "LSOA code", "Crime ID"))


def _month(name, number, text):
    """The first of the month a Month value like 2018-10 names."""
    text = text.strip()
    match = MONTH.match(text)
    if not match:
        raise ImportRejected(name, row=number, column="Month", reason=f"'{text}' is not a month like 2018-10")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _same_month(name, number, text, file_month):
    """A later row's month: police.uk files hold one month each."""
    if _month(name, number, text) != file_month:
        raise ImportRejected(name, row=number, column="Month",
                             reason=f"{text.strip()} differs from the file's month {file_month:%Y-%m}: "
                                    "police.uk files hold one month each")


def _force(name, number, text):
    """The force that published the file, from its first row's Reported by."""
    force = text.strip()
    if not force:
        raise ImportRejected(name, row=number, column="Reported by", reason="is empty")
    if len(force) > MAX_TEXT:
        raise ImportRejected(name, row=number, column="Reported by", reason=f"is longer than {MAX_TEXT} characters")
    return force


def _crime_type(name, number, text):
    """The slug of a crime type written with spaces around it; refuses an unknown type."""
    kind = SLUGS.get(text.strip())
    if kind is None:
        raise ImportRejected(name, row=number, column="Crime type", reason=f"unknown crime type '{text.strip()}'")
    return kind


def _coordinates(name, number, lat_text, lon_text):
    """(lat, lon), both None for a row without a location; refuses one coordinate without the other."""
    lat_text, lon_text = lat_text.strip(), lon_text.strip()
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        raise ImportRejected(name, row=number, column="Latitude" if lon_text else "Longitude",
                             reason="is empty while the other coordinate is given")
    return (_number(lat_text, -90, 90, name, "Latitude", number),
            _number(lon_text, -180, 180, name, "Longitude", number))


def _lsoa(name, number, code):
    if not LSOA.match(code):
        raise ImportRejected(name, row=number, column="LSOA code", reason=f"'{code}' is not an LSOA code")
    return code


def _number(value, low, high, name, column, row):
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ImportRejected(name, row=row, column=column, reason=f"'{value}' is not a {column.lower()}")
    return number


class BatchWriter:
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
            db.session.execute(insert(CrimeRecord.__table__), [dict(zip(COLUMNS, v, strict=True)) for v in self.batch])
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
