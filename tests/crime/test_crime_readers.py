"""The columnar reader stores exactly the rows the file holds, as the row-by-row reader does.

Real police.uk months (ASB rows without a Crime ID, rows without a place, rows outside Shropshire), and
the same rows with quirks (a Crime ID given to two records, a byte-order mark and CRLF line endings,
values padded with spaces), are imported through both readers on both databases, and the stored rows
are compared with the file read here by the csv module.
"""
import csv
from collections import Counter
from datetime import date

import pyarrow as pa
import pytest
from sqlalchemy import select

from portal.config import ROOT
from portal.crime import services
from portal.crime.categories import SLUGS
from portal.crime.models import CrimeMonthlyCount, CrimeRecord
from portal.crime.rows import RepeatedIds, RowByRow, WardMatcher, read_batches
from portal.crime.sources import sources
from portal.extensions import db
from portal.places.models import Locality, LocalityLsoa

POLICE = ROOT / "seed" / "police"
OCT, NOV = POLICE / "2018-10-west-mercia-street.csv", POLICE / "2018-11-west-mercia-street.csv"


def rows_of(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def expected(path):
    """The file's rows as they must be stored, read here without the portal's readers."""
    header, *rows = rows_of(path)
    at = {name.strip(): i for i, name in enumerate(header)}
    wards = dict(db.session.execute(select(LocalityLsoa.lsoa_code, Locality.id).join(Locality)
                                    .where(Locality.level == "ward")).all())
    matcher = WardMatcher()  # only for rows without an LSOA code: placed by their point
    out = []
    for row in rows:
        month = date(*map(int, row[at["Month"]].strip().split("-")), 1)
        lsoa = row[at["LSOA code"]].strip() or None
        lat = float(row[at["Latitude"]]) if row[at["Latitude"]].strip() else None
        lon = float(row[at["Longitude"]]) if row[at["Longitude"]].strip() else None
        ward = wards.get(lsoa) if lsoa else matcher.match(None, lat, lon)
        out.append((month, row[at["Reported by"]].strip(), row[at["Crime ID"]].strip() or None,
                    SLUGS[row[at["Crime type"]].strip()], lsoa, lat, lon, ward))
    return out


def stored(month):
    return db.session.execute(select(
        CrimeRecord.month, CrimeRecord.force, CrimeRecord.crime_id, CrimeRecord.crime_type, CrimeRecord.lsoa_code,
        CrimeRecord.lat, CrimeRecord.lon, CrimeRecord.locality_id).where(CrimeRecord.month == month)).all()


def counts(month):
    return Counter({(c.locality_id, c.crime_type): c.n for c in db.session.execute(
        select(CrimeMonthlyCount).where(CrimeMonthlyCount.month == month)).scalars()})


def with_quirks(tmp_path):
    """November's real rows with quirks police.uk files have or might have."""
    header, *rows = rows_of(NOV)
    twin = list(next(r for r in rows if r[0]))
    twin[4], twin[10] = str(float(twin[4]) + 0.001), "Under investigation"  # one Crime ID, two records
    repeats = tmp_path / "2018-11-repeats.csv"
    with open(repeats, "w", newline="", encoding="utf-8-sig") as fh:  # a byte-order mark, CRLF line endings
        csv.writer(fh, lineterminator="\r\n").writerows([header] + rows + [twin])
    padded = tmp_path / "2018-11-padded.csv"
    spaced = [[f" {v} " if i in (0, 7, 9) and v else v for i, v in enumerate(r)] for r in rows[:500]]
    spaced[3][5] = f" {spaced[3][5]}"
    with open(padded, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + spaced)
    return repeats, padded


@pytest.mark.both_databases
@pytest.mark.parametrize("columnar", [True, False], ids=["columns", "rows"])
def test_both_readers_store_the_files_rows_exactly(app, backend, tmp_path, columnar):
    repeats, padded = with_quirks(tmp_path)
    matcher, runs = WardMatcher(), []
    for path in (OCT, repeats, padded):
        (source,) = sources([path])
        run = (services.import_source(source, matcher=matcher) if columnar  # padded values: read row by row
               else services._import(source, None, matcher, None, 0, columnar=False))
        assert run.status == "done"
        runs.append(run)
        want, got = Counter(expected(path)), Counter(stored(run.month))
        assert got == want, (path.name, list((got - want).items())[:3], list((want - got).items())[:3])
        assert run.rows == want.total() and run.matched == sum(1 for r in want.elements() if r[-1] is not None)
        assert counts(run.month) == Counter((r[-1], r[3]) for r in want.elements() if r[-1] is not None)
    assert [r.repeated_ids for r in runs] == [0, 1, 0]


def test_the_columnar_reader_vouches_for_real_files_and_doubts_padded_values(app, tmp_path):
    """Real months are read column by column; a padded value sends the file to the row-by-row reader."""
    matcher = WardMatcher()
    repeats, padded = with_quirks(tmp_path)
    for path in (OCT, NOV, repeats):
        with open(path, "rb") as binary:
            assert sum(b.num_rows for kind, b in read_batches(path.name, binary, matcher, 1) if kind == "rows") \
                == len(rows_of(path)) - 1
    with pytest.raises(RowByRow), open(padded, "rb") as binary:
        list(read_batches(padded.name, binary, matcher, 1))


@pytest.mark.both_databases
def test_a_nul_in_a_column_not_stored_is_still_refused_naming_its_row(app, backend, tmp_path):
    header, *rows = rows_of(OCT)
    rows = [list(r) for r in rows[:50]]
    rows[20][6] = "On or near\x00 Albert Road"  # Location: read by no check, stored nowhere
    path = tmp_path / "nul.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + rows)
    runs, errors = services.import_paths([path])
    assert runs == [] and [e.message for e in errors] == [
        "nul.csv, row 22: holds a NUL character: this is not a text file"]


def test_a_suspect_crime_id_is_reported_only_if_it_is_on_two_rows():
    """Two Crime IDs can share a hash: a suspect is settled by the IDs themselves, each named with its rows."""
    twice, once = "a" * 64, "b" * 64
    watched = RepeatedIds()
    watched.add(pa.array([twice, None, once, twice]))
    suspects = watched.candidates()
    assert suspects == {hash(twice)}
    assert RepeatedIds.repeated([(twice, 2), (once, 3), (twice, 9)], suspects | {hash(once)}) == {twice: [2, 9]}
