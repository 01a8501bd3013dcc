"""The rows of a police.uk street-level crime file, validated, tied to a ward and written in batches.

Two readers give the same batches. ``read_batches`` reads the file column by column (pyarrow's CSV
reader, a block at a time) and checks whole columns at once; it refuses nothing itself: at anything it
cannot vouch for (a bad value, a NUL, bytes that are not UTF-8, a long line, a short row) it raises
RowByRow, and the file is read again by ``parse_rows``, line by line, which names the file, row and
column of the first bad value (or, if the doubt was unfounded, imports the same rows). So every refusal
is the row-by-row reader's own message."""
import codecs
import csv
import io
import re
from collections import Counter
from datetime import date
from queue import Queue

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg.copy import QueuedLibpqWriter
from shapely import STRtree
from shapely.geometry import Point, shape
from sqlalchemy import insert, select

from ..errors import ImportRejected
from ..extensions import db
from ..places.models import Locality, LocalityLsoa
from . import pgcopy
from .categories import SLUGS
from .models import CrimeRecord
from .sources import MAX_LINE

REQUIRED = ("Crime ID", "Month", "Reported by", "Longitude", "Latitude", "LSOA code", "Crime type")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
LSOA = re.compile(r"^[EW]0\d{7}$")
COLUMNS = ("month", "force", "crime_id", "crime_type", "lsoa_code", "lat", "lon", "locality_id", "import_id")
BATCH = 5000
MAX_TEXT = 80  # Crime ID and Reported by: the columns' String(80)
SCHEMA = pa.schema([("month", pa.date32()), ("force", pa.string()), ("crime_id", pa.string()),
                    ("crime_type", pa.string()), ("lsoa_code", pa.string()), ("lat", pa.float64()),
                    ("lon", pa.float64()), ("locality_id", pa.int64()), ("import_id", pa.int64())])
BLOCK = 4 << 20  # bytes the columnar reader parses at a time: memory stays flat in file size
SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())  # what str.strip() strips


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


def row_batches(rows):
    """``parse_rows``' rows as ``read_batches`` gives them: ("start", (month, force)), then ("rows", batch)."""
    batch = []
    for number, values, _ in rows:
        if number == "start":
            yield "start", values
            continue
        batch.append(values)
        if len(batch) >= BATCH:
            yield "rows", _to_batch(batch)
            batch = []
    if batch:
        yield "rows", _to_batch(batch)


def _to_batch(rows):
    return pa.RecordBatch.from_arrays([pa.array(column, type=field.type) for column, field in
                                       zip(zip(*rows, strict=True), SCHEMA, strict=True)], schema=SCHEMA)


class RowByRow(Exception):
    """The columnar reader cannot vouch for the file: read it again row by row (which names what is wrong)."""


class _Screened(io.RawIOBase):
    """The file's bytes on their way to pyarrow, screened for what the row-by-row reader refuses and
    pyarrow would not notice in columns it skips: a NUL, bytes that are not UTF-8, a line of more than
    MAX_LINE characters (counted in bytes: a byte is at most a character, so nothing refused gets by)."""

    def __init__(self, raw):
        self.raw, self.line_bytes = raw, 0
        self.decoder, self.partial = codecs.getincrementaldecoder("utf-8")(), False

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        if b"\x00" in data:
            raise RowByRow("NUL")
        if self.partial or not data.isascii():
            try:
                self.decoder.decode(data, final=not data)
            except UnicodeDecodeError:
                raise RowByRow("not UTF-8") from None
            self.partial = bool(self.decoder.getstate()[0])
        self._lines(data)
        buffer[:len(data)] = data
        return len(data)

    def _lines(self, data):
        # A line with its newline may hold MAX_LINE characters; jump from the last newline of each
        # window of that size to the next, so a block costs a few searches, not one per line.
        at, end = 0, len(data)
        while at < end:
            window = at + MAX_LINE - self.line_bytes
            newline = data.rfind(b"\n", at, min(end, window))
            if newline < 0:
                if window <= end:
                    raise RowByRow("long line")
                self.line_bytes += end - at
                return
            self.line_bytes, at = 0, newline + 1


def read_batches(name, binary, matcher, import_id):
    """The file's validated rows as record batches of SCHEMA, a block at a time: first ("start", (month,
    force)), then ("rows", batch) for each block. Raises RowByRow (or any error) where ``parse_rows``
    must judge the file; never ImportRejected of its own."""
    stream = io.BufferedReader(_Screened(binary), BLOCK)
    line = stream.readline(MAX_LINE + 1).decode("utf-8-sig")
    if '"' in line:
        raise RowByRow("quoted header")
    width, positions = _columns(name, next(csv.reader([line]), None))
    names = [f"c{i}" for i in range(width)]
    wanted = [names[i] for i in positions]  # Month, Reported by, Crime type, Longitude, Latitude, LSOA, ID
    reader = pa_csv.open_csv(stream, read_options=pa_csv.ReadOptions(column_names=names, block_size=BLOCK),
                             parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                             convert_options=pa_csv.ConvertOptions(
                                 include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()),
                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    first = None
    for block in reader:
        if not block.num_rows:
            continue
        month, force, kind, lon, lat, lsoa, crime_id = block.columns
        if first is None:
            first = month[0].as_py(), _month(name, 0, month[0].as_py()), _force(name, 0, force[0].as_py())
            yield "start", first[1:]
        yield "rows", _checked_batch(name, first, block.num_rows, month, kind, lat, lon, lsoa, crime_id,
                                     matcher, import_id)


def _checked_batch(name, first, rows, month, kind, lat, lon, lsoa, crime_id, matcher, import_id):
    """One block's columns checked as the row-by-row reader checks each row (or RowByRow), as a batch."""
    month_text, file_month, force = first
    for text in pc.unique(month).to_pylist():
        if text != month_text:
            _same_month(name, 0, text, file_month)
    kinds = kind.dictionary_encode()
    slugs = [SLUGS.get(text) or _crime_type(name, 0, text) for text in kinds.dictionary.to_pylist()]
    lat_number, lon_number = _column_coordinates(lat, lon)
    codes = lsoa.dictionary_encode()
    stripped = [text.strip() or None for text in codes.dictionary.to_pylist()]
    for code in stripped:
        if code:
            _lsoa(name, 0, code)
    lsoa_code = pc.take(pa.array(stripped, pa.string()), codes.indices)
    ward = pc.take(pa.array([code and matcher.by_lsoa.get(code) for code in stripped], pa.int64()), codes.indices)
    placed_by_point = pc.and_(pc.is_null(lsoa_code), pc.is_valid(lat_number))
    if pc.any(placed_by_point).as_py():
        at = pc.indices_nonzero(placed_by_point)
        found = [matcher.match(None, y, x) for y, x in zip(pc.take(lat_number, at).to_pylist(),
                                                            pc.take(lon_number, at).to_pylist(), strict=True)]
        ward = pc.replace_with_mask(ward, placed_by_point, pa.array(found, pa.int64()))
    crime_id = pc.utf8_trim(crime_id, characters=SPACE)
    if rows and pc.max(pc.utf8_length(crime_id)).as_py() > MAX_TEXT:
        raise RowByRow("long Crime ID")
    crime_id = pc.if_else(pc.equal(crime_id, ""), pa.scalar(None, pa.string()), crime_id)
    return pa.RecordBatch.from_arrays([
        pa.repeat(pa.scalar(file_month, pa.date32()), rows), pa.repeat(pa.scalar(force, pa.string()), rows),
        crime_id, pc.take(pa.array(slugs, pa.string()), kinds.indices), lsoa_code, lat_number, lon_number, ward,
        pa.repeat(pa.scalar(import_id, pa.int64()), rows)], schema=SCHEMA)


def _column_coordinates(lat, lon):
    """(latitude, longitude) as numbers, null where both are empty, as ``_coordinates`` reads them."""
    empty = pc.equal(lat, "")
    if not pc.all(pc.equal(empty, pc.equal(lon, ""))).as_py():
        raise RowByRow("one coordinate without the other")
    numbers = []
    for column, bound in ((lat, 90), (lon, 180)):
        try:  # a plain decimal; float() takes more (spaces around it, 1_000): those are read row by row
            number = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), column), pa.float64())
        except pa.ArrowInvalid:
            raise RowByRow("not a plain number") from None
        extremes = pc.min_max(number)
        low, high = extremes["min"], extremes["max"]
        if pc.any(pc.is_nan(number)).as_py() or (low.is_valid and not -bound <= low.as_py() <= high.as_py() <= bound):
            raise RowByRow("coordinate out of range")
        numbers.append(number)
    return numbers


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


class _Sender(QueuedLibpqWriter):
    """psycopg's COPY writer thread, with at most 32 chunks of 128 kB waiting (its own queue holds 1,024:
    128 MB when the server is slower than the reader), so memory stays flat in file size."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue = Queue(maxsize=32)


class RepeatedIds:
    """Spots Crime IDs given to more than one row as the batches go by, without asking the database
    (whose statistics know nothing of a month just loaded, so its GROUP BY read the whole table).

    It keeps one 64-bit hash a row (8 bytes, where the file holds about 200; 40 MB at 5 million rows),
    sorted in place at the end: equal IDs always have equal hashes, so no repeated ID is missed; two
    different IDs may share one, so ``candidates`` are only suspects, which ``repeated`` settles by
    reading the IDs themselves."""

    def __init__(self):
        self.hashes = []

    def add(self, crime_ids):
        ids = crime_ids.drop_null().to_pylist()
        self.hashes.append(np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids)))

    def candidates(self):
        """The hashes found on more than one row. One array of them all, filled as the blocks' arrays
        are let go (never two copies), then sorted in place: equal hashes end up side by side."""
        every = np.empty(sum(len(part) for part in self.hashes), dtype=np.int64)
        at = 0
        while self.hashes:
            part = self.hashes.pop(0)
            every[at:at + len(part)] = part
            at += len(part)
        every.sort()
        return set(every[1:][every[1:] == every[:-1]].tolist())

    @staticmethod
    def repeated(ids_with_rows, candidates):
        """{Crime ID: its row numbers} for the IDs on more than one row, from (ID, row number) pairs of
        the file (an ID hashed as in ``add``: this process's own hash)."""
        rows = {}
        for crime_id, number in ids_with_rows:
            if crime_id and hash(crime_id) in candidates:
                rows.setdefault(crime_id, []).append(number)
        return {crime_id: numbers for crime_id, numbers in sorted(rows.items()) if len(numbers) > 1}


class BatchWriter:
    """Writes record batches of SCHEMA, counts them by ward and type and notes their Crime IDs as they
    go. On PostgreSQL one binary COPY stream per file, its rows joined from the columns in C++
    (``pgcopy``; the server stores a batch while the next is read, on another core); executemany
    elsewhere."""

    def __init__(self):
        connection = db.session.connection()
        self.postgres = connection.dialect.name == "postgresql"
        self.raw = connection.connection.driver_connection if self.postgres else None
        self.cursor, self.copy = None, None
        self.rows, self.counts = 0, Counter()  # (ward, crime type) -> rows
        self.crime_ids = RepeatedIds()

    def write(self, batch):
        self.rows += batch.num_rows
        self.crime_ids.add(batch.column("crime_id"))
        placed = batch.filter(pc.is_valid(batch.column("locality_id")))
        if placed.num_rows:
            grouped = pa.Table.from_batches([placed]).group_by(["locality_id", "crime_type"]).aggregate(
                [("locality_id", "count")])
            keys = zip(grouped["locality_id"].to_pylist(), grouped["crime_type"].to_pylist(), strict=True)
            self.counts.update(dict(zip(keys, grouped["locality_id_count"].to_pylist(), strict=True)))
        if self.postgres:
            if self.copy is None:
                self.cursor = self.raw.cursor()
                self._copy_context = self.cursor.copy(  # a thread sends while this one reads the next block
                    f"COPY crime_records ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT binary)",
                    writer=_Sender(self.cursor))
                self.copy = self._copy_context.__enter__()
                self.copy.write(pgcopy.SIGNATURE)
            self.copy.write(memoryview(pgcopy.rows(batch)))
        else:
            db.session.execute(insert(CrimeRecord.__table__), batch.to_pylist())

    @property
    def matched(self):
        return sum(self.counts.values())

    def close(self, failed=False):
        """Finish the COPY stream (the server then reports any error in the data). Whatever fails, the
        COPY is ended and its sender thread stopped: a COPY left open holds the connection, and the
        rollback after it would wait for ever."""
        if self.copy is None:
            return
        error = (RuntimeError, RuntimeError("import abandoned"), None) if failed else (None, None, None)
        try:
            if not failed:
                try:
                    self.copy.write(pgcopy.TRAILER)
                except Exception as trouble:  # the sender already met a server error: end the COPY with it
                    error = (type(trouble), trouble, trouble.__traceback__)
            self._copy_context.__exit__(*error)
            if error[1] is not None and not failed:
                raise error[1]
        finally:
            self.cursor.close()
            self.copy = None
