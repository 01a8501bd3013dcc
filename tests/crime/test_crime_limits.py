"""police.uk uploads within limits: damaged zips, zip bombs, endless lines, over-long values, repeated months.

Each is refused with the file (and row and column where there is one),
nothing from it is saved, and the uploaded file does not stay on disk.
"""
import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.config import ROOT
from portal.crime.models import CrimeImport, CrimeRecord
from portal.crime.services import import_paths
from portal.extensions import db

from ..conftest import DEMO_EMAILS, Browser, text_of

OCT = ROOT / "seed" / "police" / "2018-10-west-mercia-street.csv"
HEADER, *ROWS = OCT.read_text(encoding="utf-8").splitlines(keepends=True)


def stored():
    return db.session.execute(select(func.count()).select_from(CrimeRecord)).scalar_one()


def zipped(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def upload(app, path, name=None):
    analyst = Browser(app).sign_in(DEMO_EMAILS["analyst"])
    return analyst.post("/crime/imports", {"file": (open(path, "rb"), name or path.name)},
                        content_type="multipart/form-data")


def left_in(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("case, content, message", [
    ("not a zip", b"Crime ID,Month\nnot a zip at all\n",
     "Nothing was imported. oct.zip: is not a zip file, or the zip is damaged"),
    ("no csv", None, "Nothing was imported. oct.zip: the zip holds no CSV files"),
])
def test_a_zip_that_is_not_one_or_holds_no_csv_is_a_form_message(make_app, tmp_path, case, content, message):
    uploads = tmp_path / "uploads"
    app = make_app(UPLOAD_DIR=str(uploads))
    path = tmp_path / "oct.zip"
    if content is None:
        zipped(path, {"README.txt": "no data here"})
    else:
        path.write_bytes(content)
    with app.app_context():
        response = upload(app, path)
        assert response.status_code == 400
        assert message in text_of(response)
    assert left_in(uploads) == []


def test_an_upload_is_removed_once_imported_or_refused(make_app, tmp_path):
    uploads = tmp_path / "uploads"
    app = make_app(UPLOAD_DIR=str(uploads))
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(ROWS[:20]), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + ROWS[0].replace("2018-10", "October"), encoding="utf-8")
    with app.app_context():
        for path in (good, bad):
            response = upload(app, path)
            assert response.status_code == 302
            assert left_in(uploads) == []
        history = [(i.file_name, i.status) for i in db.session.execute(
            select(CrimeImport).order_by(CrimeImport.id.desc()).limit(2)).scalars()]
        assert history == [("bad.csv", "rejected"), ("good.csv", "done")]


@pytest.mark.both_databases
def test_a_zip_bomb_is_refused_while_it_inflates(app, backend, tmp_path):
    before = stored()
    # 40 MB of one row repeated deflates about 1,000 times: no police.uk file does that.
    bomb = zipped(tmp_path / "bomb.zip", {"2018-10-west-mercia-street.csv": HEADER + ROWS[0] * 160_000})
    runs, errors = import_paths([bomb])
    assert runs == [] and len(errors) == 1
    assert errors[0].message.startswith("bomb.zip:2018-10-west-mercia-street.csv: inflates more than 200 times")
    assert stored() == before


def test_a_member_inflating_past_the_cap_is_refused(make_app, tmp_path):
    app = make_app(MAX_INFLATED_MB=1)
    big = zipped(tmp_path / "big.zip", {"2018-10.csv": HEADER + "".join(ROWS[:8000])})  # about 1.7 MB of real rows
    with app.app_context():
        before = stored()
        runs, errors = import_paths([big])
        assert runs == [] and errors[0].message == ("big.zip:2018-10.csv: inflates to more than 1 MB "
                                                    "(MAX_INFLATED_MB): refused")
        assert stored() == before


@pytest.mark.both_databases
def test_an_endless_line_is_refused_as_soon_as_it_passes_the_limit(app, backend, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(HEADER + ROWS[0] + "x" * 5_000_000 + "\n", encoding="utf-8")
    runs, errors = import_paths([path])
    assert [e.message for e in errors] == [
        "long.csv, row 3: is longer than 65,536 characters: this is not a police.uk street-level crime file"]


@pytest.mark.both_databases
def test_a_crime_id_longer_than_its_column_names_file_row_and_column(app, backend, tmp_path):
    before = stored()
    path = tmp_path / "ids.csv"
    path.write_text(HEADER + ROWS[0] + "a" * 81 + ROWS[1][ROWS[1].index(","):], encoding="utf-8")
    runs, errors = import_paths([path])
    assert [e.message for e in errors] == [
        "ids.csv, row 3, column 'Crime ID': is 81 characters long; a Crime ID has at most 80"]
    assert stored() == before


@pytest.mark.both_databases
def test_two_members_of_the_same_force_and_month_are_refused(app, backend, tmp_path):
    before = stored()
    both = zipped(tmp_path / "both.zip", {"a/2018-10-west-mercia-street.csv": HEADER + "".join(ROWS[:10]),
                                          "b/2018-10-west-mercia-street.csv": HEADER + "".join(ROWS[10:20])})
    runs, errors = import_paths([both])
    assert runs == []
    assert [e.message for e in errors] == [
        "both.zip: a/2018-10-west-mercia-street.csv and b/2018-10-west-mercia-street.csv both hold "
        "West Mercia Police's 2018-10: a zip may hold each force's month once "
        "(importing both would keep only the last)"]
    assert stored() == before
    assert db.session.execute(select(CrimeRecord.month).limit(1)).scalar() == date(2018, 10, 1)


def test_a_long_upload_name_is_kept_short_enough_to_store(make_app, tmp_path):
    uploads = tmp_path / "uploads"
    app = make_app(UPLOAD_DIR=str(uploads))
    path = tmp_path / "short.csv"
    path.write_text(HEADER + "".join(ROWS[:5]), encoding="utf-8")
    with app.app_context():
        response = upload(app, path, name="n" * 300 + ".csv")
        assert response.status_code == 302
        latest = db.session.execute(select(CrimeImport).order_by(CrimeImport.id.desc()).limit(1)).scalar_one()
        assert latest.status == "done" and latest.file_name == "n" * 120 + ".csv"


def test_zip_members_are_read_through_the_limits(app, tmp_path):
    """The member opener is the only way the importer reads a zip (so no path skips the limits)."""
    from portal.crime.sources import sources, zip_member

    archive = zipped(tmp_path / "two.zip", {"2018-10.csv": HEADER + ROWS[0]})
    (source,) = sources([archive])
    with source.opener() as binary:
        assert isinstance(binary, io.BufferedReader) and binary.read().decode() == HEADER + ROWS[0]
    with zip_member(archive, "2018-10.csv") as binary:
        assert binary.readline().decode() == HEADER
