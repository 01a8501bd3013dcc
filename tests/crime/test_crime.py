"""Importing police.uk street-level crime: real rows, tied to localities, all-or-nothing per file."""
import csv
import json
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.config import ROOT
from portal.crime.models import CrimeImport, CrimeRecord
from portal.crime.services import import_paths
from portal.extensions import db
from portal.places.models import Locality

from ..conftest import text_of

POLICE = ROOT / "seed" / "police"
OCT, NOV = POLICE / "2018-10-west-mercia-street.csv", POLICE / "2018-11-west-mercia-street.csv"
SHROPSHIRE_LSOAS = {f["properties"]["LSOA11CD"] for f in json.loads(
    (ROOT / "seed" / "boundaries" / "lsoa_E06000051.geojson").read_text())["features"]}


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def stored(month=date(2018, 10, 1)):
    return db.session.execute(select(func.count()).select_from(CrimeRecord).where(
        CrimeRecord.month == month)).scalar_one()


def sample(tmp_path, n=60):
    """Real rows of October 2018: Shropshire ones, others, ASB without a Crime ID, rows without a place."""
    header, *rows = rows_of(OCT)
    inside = [r for r in rows if r[7] in SHROPSHIRE_LSOAS][:n // 2]
    outside = [r for r in rows if r[7] and r[7] not in SHROPSHIRE_LSOAS][:n // 3]
    nowhere = [r for r in rows if not r[7]][:3]
    asb = [r for r in rows if r[9] == "Anti-social behaviour" and r[7] in SHROPSHIRE_LSOAS][:5]
    chosen = inside + outside + nowhere + [r for r in asb if r not in inside]
    return write(tmp_path / "2018-10-sample.csv", [header] + chosen), chosen


@pytest.mark.both_databases
def test_rows_are_tied_to_wards_and_the_rest_counted_not_dropped(app, backend, tmp_path):
    path, chosen = sample(tmp_path)
    runs, errors = import_paths([path])
    assert errors == []
    run = runs[0]
    expected_inside = sum(1 for r in chosen if r[7] in SHROPSHIRE_LSOAS)
    assert (run.rows, run.matched, run.unmatched) == (len(chosen), expected_inside, len(chosen) - expected_inside)
    assert run.replaced == len(rows_of(OCT)) - 1  # the seeded full month was replaced
    assert stored() == len(chosen)
    asb = db.session.execute(select(CrimeRecord).where(CrimeRecord.crime_type == "anti-social-behaviour",
                                                       CrimeRecord.month == date(2018, 10, 1))).scalars().all()
    assert asb and all(r.crime_id is None for r in asb)
    placed = db.session.execute(select(CrimeRecord).where(CrimeRecord.lsoa_code.in_(SHROPSHIRE_LSOAS),
                                                          CrimeRecord.month == date(2018, 10, 1))).scalars().all()
    wards = set(db.session.execute(select(Locality.id).where(Locality.level == "ward")).scalars())
    assert placed and all(r.locality_id in wards for r in placed)


@pytest.mark.both_databases
def test_importing_a_month_again_replaces_it(app, backend, tmp_path):
    before = stored()
    runs, _ = import_paths([OCT])
    assert stored() == before == len(rows_of(OCT)) - 1
    assert runs[0].replaced == before


@pytest.mark.both_databases
def test_a_new_month_is_imported_without_reading_the_crime_rows_and_a_held_one_replaced(app, backend, tmp_path):
    """police.uk months arrive one at a time and again: the check for a month already held reads the
    imports' records, so a new month sends no statement to the crime rows before its COPY; a month
    held (whichever order the files come in) is deleted first, and only that force's month."""
    from sqlalchemy import event

    header, *rows = rows_of(NOV)
    december = write(tmp_path / "2018-12-street.csv", [header] + [[r[0], "2018-12", *r[2:]] for r in rows[:40]])
    sent = []

    def listener(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        (new,), _ = import_paths([december])
        deletes_new = [s for s in sent if s.startswith("DELETE FROM crime_records")]
        sent.clear()
        (again,), _ = import_paths([OCT])  # an older month, imported again after a newer one
        deletes_again = [s for s in sent if s.startswith("DELETE FROM crime_records")]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert (new.replaced, deletes_new) == (0, [])
    assert len(deletes_again) == 1 and again.replaced == len(rows_of(OCT)) - 1
    assert stored(date(2018, 12, 1)) == 40 and stored() == len(rows_of(OCT)) - 1
    assert stored(date(2018, 11, 1)) == len(rows)  # the month in between is untouched


@pytest.mark.both_databases
def test_a_zip_of_monthly_files_imports_each(app, backend, tmp_path):
    archive = tmp_path / "west-mercia.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(OCT, "2018-10/2018-10-west-mercia-street.csv")
        z.write(NOV, "2018-11/2018-11-west-mercia-street.csv")
    runs, errors = import_paths([archive])
    assert errors == [] and [r.month.isoformat() for r in runs] == ["2018-10-01", "2018-11-01"]
    assert stored(date(2018, 11, 1)) == len(rows_of(NOV)) - 1


def bad(tmp_path, case):
    header, *rows = rows_of(OCT)
    rows = rows[:40]
    path = tmp_path / "bad.csv"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "headers":
        write(path, [[h for h in header if h != "LSOA code"]] + [r[:7] + r[8:] for r in rows])
    elif case == "encoding":
        text = ("\n".join(",".join(r) for r in [header] + rows).encode() + b"\n"
                + ",".join(rows[0]).encode()[:-1] + b"\xe9\n")
        path.write_bytes(text)
    elif case == "month":
        rows[10][1] = "2018-13"
        write(path, [header] + rows)
    elif case == "two months":
        rows[12][1] = "2018-11"
        write(path, [header] + rows)
    elif case == "latitude":
        rows[7][5] = "fifty-two"
        write(path, [header] + rows)
    elif case == "crime type":
        rows[3][9] = "Jaywalking"
        write(path, [header] + rows)
    elif case == "short row":
        rows[5] = rows[5][:6]
        write(path, [header] + rows)
    elif case == "no rows":
        write(path, [header])
    return path


BAD = {
    "empty": "bad.csv: the file is empty",
    "headers": "bad.csv, row 1: missing column(s) LSOA code",
    "encoding": "bad.csv, row 42: the file is not UTF-8 text",
    "month": "bad.csv, row 12, column 'Month': '2018-13' is not a month like 2018-10",
    "two months": "bad.csv, row 14, column 'Month': 2018-11 differs from the file's month 2018-10",
    "latitude": "bad.csv, row 9, column 'Latitude': 'fifty-two' is not a latitude",
    "crime type": "bad.csv, row 5, column 'Crime type': unknown crime type 'Jaywalking'",
    "short row": "bad.csv, row 7: has 6 values, the header has 12",
    "no rows": "bad.csv: the file has a header but no rows",
}


@pytest.mark.both_databases
@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_is_refused_whole_naming_the_problem(app, backend, tmp_path, case):
    before = stored()
    runs, errors = import_paths([bad(tmp_path, case)])
    assert runs == [] and len(errors) == 1
    assert errors[0].message.startswith(BAD[case]), errors[0].message
    assert stored() == before  # the month held before is untouched
    logged = db.session.execute(select(CrimeImport).order_by(CrimeImport.id.desc())).scalars().first()
    assert logged.status == "rejected" and logged.message == errors[0].message


def test_the_cli_imports_with_progress_and_refuses_bad_files(app, tmp_path):
    runner = (app.test_cli_runner(mix_stderr=False) if "mix_stderr" in app.test_cli_runner.__code__.co_varnames
              else app.test_cli_runner())
    path, chosen = sample(tmp_path)
    result = runner.invoke(args=["crime", "import", str(path), str(bad(tmp_path, "crime type"))])
    assert result.exit_code == 1
    assert f"2018-10-sample.csv: {len(chosen)} rows for West Mercia Police, 2018-10" in result.output
    assert "Refused, nothing imported: bad.csv, row 5, column 'Crime type'" in (result.output + (result.stderr or ""))
    assert "Rolled up" in result.output


def test_an_analyst_uploads_a_file_and_follows_its_progress(app, as_role, tmp_path):
    path, chosen = sample(tmp_path)
    analyst = as_role("analyst")
    response = analyst.post("/crime/imports", {"file": (open(path, "rb"), "2018-10-sample.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 302
    page = text_of(analyst.get(response.headers["Location"]))
    assert f"Done: {len(chosen):,} rows imported" in page
    status = analyst.get(response.headers["Location"].split("?")[0] + ".json").get_json()
    assert status["state"] == "done" and status["rows"] == len(chosen)
    assert "2018-10-sample.csv" in text_of(analyst.get("/crime/imports"))
    assert as_role("partner").get("/crime/imports").status_code == 403


def test_an_upload_left_running_by_a_lost_worker_is_marked_failed_by_the_beat_job_and_retried(app, as_role, tmp_path):
    from datetime import timedelta

    from portal.crime import uploads
    from portal.models import utcnow

    path, chosen = sample(tmp_path)
    upload = uploads.new_upload([path], path.name)
    upload.status, upload.started_at = "running", utcnow() - timedelta(
        seconds=app.config["CELERY_VISIBILITY_TIMEOUT"] + 60)
    db.session.commit()
    assert app.extensions["celery"].tasks["crime.fail_stale_uploads"].delay().get() == 1
    analyst = as_role("analyst")
    listed = text_of(analyst.get("/crime/imports"))
    assert f"Uploads not imported yet {path.name}" in listed and "The import did not finish" in listed
    page = text_of(analyst.get(f"/crime/imports/{upload.id}"))
    assert "The import did not finish" in page and "Try the import again" in page and "Working" not in page
    response = analyst.post(f"/crime/imports/{upload.id}/retry")
    assert response.status_code == 302
    assert f"Done: {len(chosen):,} rows imported" in text_of(analyst.get(response.headers["Location"]))
    assert analyst.post(f"/crime/imports/{upload.id}/retry", csrf=False).status_code == 400


def test_old_indicator_addresses_of_the_crime_pages_redirect_for_good(app, as_role):
    analyst = as_role("analyst")
    for old, new in (("/indicators/imports", "/crime/imports"), ("/indicators/imports/7", "/crime/imports/7"),
                     ("/indicators/imports/7.json", "/crime/imports/7.json"),
                     ("/indicators/assessment?end=2018-11&length=1", "/crime/assessment?end=2018-11&length=1")):
        response = analyst.get(old)
        assert response.status_code == 301 and response.headers["Location"].endswith(new), old
    assert as_role("partner").get("/indicators/imports").status_code == 403
    response = analyst.post("/indicators/imports/7/retry")
    assert response.status_code == 308 and response.headers["Location"].endswith("/crime/imports/7/retry")
