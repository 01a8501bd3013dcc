"""Photos and documents on task updates: recognised by their contents, photos saved without their location,
shown only to the people who may see the task, withdrawn (never deleted) with a reason."""
import io
import zipfile

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from portal.extensions import db
from portal.partners.models import Organisation
from portal.people.models import User
from portal.tasking import attachments
from portal.tasking.models import TaskFile, TaskUpdate

from ..conftest import Browser, text_of
from ..factories import new_task, one, user

PASSWORD = "a-long-enough-password"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def uploads(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def kept_files(uploads):
    return sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else []


def photo_with_gps(size=(64, 48), orientation=None):
    """A JPEG as a phone writes it: EXIF with the GPS position where it was taken (Shrewsbury)."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (52.0, 42.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "W", (2.0, 45.0, 10.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def docx():
    """The smallest Word package: its [Content_Types].xml names a wordprocessing main part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType='
                         '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        package.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def post_update(client, task, files, **fields):
    data = {"version": str(task.version_id), "stage": task.stage, "status": task.status,
            "files": [(io.BytesIO(body), name) for name, body in files]} | fields
    return client.post(f"/tasks/{task.id}/update", data, content_type="multipart/form-data")


def fetch(browser, url):
    """A file as the browser receives it (bytes: Browser.get reads pages as text)."""
    with browser.app.app_context():
        return browser.client.get(url)


def files_url(task, task_file):
    return f"/tasks/{task.id}/files/{task_file.id}"


def the_files(task):
    return db.session.execute(select(TaskFile).where(TaskFile.task_id == task.id)
                              .order_by(TaskFile.id)).scalars().all()


def entries(task):
    return db.session.execute(select(func.count()).select_from(TaskUpdate)
                              .where(TaskUpdate.task_id == task.id)).scalar_one()


def test_a_photo_comes_back_upright_without_its_location_and_the_task_lists_who_added_it(app, as_role, uploads):
    task = new_task()
    original = photo_with_gps(orientation=6)  # taken with the phone on its side
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test can fail
    partner = as_role("partner")
    response = post_update(partner, task, [("IMG_0042.jpg", original)], text="Graffiti on the bus shelter")
    assert response.status_code == 302, text_of(response)
    [task_file] = the_files(task)
    served = fetch(partner, files_url(task, task_file))
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in served.headers["Cache-Control"]
    assert "attachment" not in served.headers.get("Content-Disposition", "")
    kept = Image.open(io.BytesIO(served.data))
    assert kept.format == "JPEG" and kept.size == (48, 64)  # turned upright before the EXIF went
    assert not kept.getexif() and "exif" not in kept.info and "xmp" not in kept.info
    assert b"PhoneMaker" not in served.data and b"GPS" not in served.data
    page = text_of(partner.get(f"/tasks/{task.id}"))
    assert "IMG_0042.jpg" in page and "Added by Pat Partner (Registered Social Landlords)" in page
    assert "Graffiti on the bus shelter" in page


def test_a_document_is_recognised_by_what_it_holds_and_downloaded(app, as_role, uploads):
    task = new_task()
    officer = as_role("officer")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = post_update(officer, task, [("Letter to residents.pdf", pdf), ("Minutes.docx", docx())])
    assert response.status_code == 302, text_of(response)  # files alone are an update
    letter, minutes = the_files(task)
    assert (letter.content_type, minutes.content_type) == ("application/pdf", DOCX)
    served = fetch(officer, files_url(task, minutes))
    assert served.mimetype == DOCX and served.headers["Content-Disposition"].startswith("attachment")
    assert zipfile.ZipFile(io.BytesIO(served.data)).namelist() == ["[Content_Types].xml", "word/document.xml"]
    assert fetch(officer, files_url(task, letter)).data == pdf


@pytest.mark.parametrize("name, body, says", [
    ("Report.pdf", b"MZ\x90\x00 a Windows program", "Report.pdf: it is named as a PDF but its contents are not"),
    ("Notes.docx", None, "Notes.docx: it is named as a Word document but its contents are not"),
    ("holiday.pdf", "jpeg", "holiday.pdf: its contents are a JPEG photo, but its name ends '.pdf'"),
])
@pytest.mark.both_databases
def test_a_file_that_is_not_what_its_name_says_is_refused_naming_it_and_nothing_is_saved(
        app, as_role, uploads, name, body, says, backend):
    task = new_task()
    if body is None:  # a zip that is no office document
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as package:
            package.writestr("payload.exe", "MZ")
        body = out.getvalue()
    elif body == "jpeg":
        body = photo_with_gps()
    before, version = entries(task), task.version_id
    partner = as_role("partner")
    response = post_update(partner, task, [("Good photo.jpg", photo_with_gps()), (name, body)],
                           text="Cleared the alley", status="in_progress")
    assert response.status_code == 400
    page = text_of(response)
    assert says in page and "Nothing was saved" in page
    db.session.expire_all()
    assert entries(task) == before and task.version_id == version and task.status == "open"
    assert the_files(task) == [] and kept_files(uploads) == []


def test_a_file_too_big_is_refused_with_the_limit(app, as_role, uploads):
    app.config["TASK_FILE_MAX_MB"] = 1
    task = new_task()
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024)
    response = post_update(as_role("partner"), task, [("CCTV stills.pdf", big)], text="Stills attached")
    assert response.status_code == 400
    assert "CCTV stills.pdf is larger than 1.0 MB: files can be up to 1.0 MB each" in text_of(response)
    assert the_files(task) == [] and kept_files(uploads) == []


@pytest.mark.both_databases
def test_a_refused_update_keeps_no_file_and_a_rolled_back_one_leaves_none_on_disk(app, as_role, uploads, backend):
    task = new_task()
    # The update itself is refused (blocked without saying why) after the file passed its checks.
    response = post_update(as_role("partner"), task, [("ok.jpg", photo_with_gps())], status="blocked")
    assert response.status_code == 400 and "Say what is blocking the task" in text_of(response)
    assert the_files(task) == [] and kept_files(uploads) == []
    # A unit of work that wrote its file and was then rolled back (a save that lost a race) removes it.
    from werkzeug.datastructures import FileStorage

    attachments.update_with_files(task, by=user("partner"), version=task.version_id, text="x",
                                  files=[FileStorage(io.BytesIO(photo_with_gps()), "race.jpg")])
    assert len(kept_files(uploads)) == 1
    db.session.rollback()
    assert kept_files(uploads) == [] and the_files(task) == []


def test_only_people_who_may_see_the_task_fetch_its_file_by_typed_id(app, as_role, browser, uploads):
    task, other_task = new_task(), new_task()
    post_update(as_role("officer"), task, [("scene.jpg", photo_with_gps())], text="Scene")
    [task_file] = the_files(task)
    fire = User(email="fire.member@example.org", display_name="Fiona Fire", role="partner",
                organisation=one(Organisation, name="Shropshire Fire and Rescue Service"))
    fire.set_password(PASSWORD)
    db.session.add(fire)
    db.session.commit()
    stranger = Browser(app).sign_in(fire.email, PASSWORD)
    assert fetch(stranger, files_url(task, task_file)).status_code == 403
    anonymous = fetch(browser, files_url(task, task_file))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    partner = as_role("partner")
    assert fetch(partner, files_url(task, task_file)).status_code == 200
    # The file's id typed under another task the partner can see is no file of that task.
    assert fetch(partner, f"/tasks/{other_task.id}/files/{task_file.id}").status_code == 404
    assert fetch(as_role("analyst"), files_url(task, task_file)).status_code == 200


def test_a_withdrawn_file_is_no_longer_served_and_the_log_says_who_withdrew_it_and_why(app, as_role, uploads):
    task = new_task()
    partner = as_role("partner")
    post_update(partner, task, [("wrong house.jpg", photo_with_gps())], text="Door photo")
    [task_file] = the_files(task)
    url = files_url(task, task_file)
    refused = partner.post(f"{url}/withdraw", {"reason": ""})
    assert refused.status_code == 400 and "Say why the file is being withdrawn" in text_of(refused)
    assert fetch(partner, url).status_code == 200
    assert as_role("analyst").post(f"{url}/withdraw", {"reason": "x"}).status_code == 403
    assert partner.post(f"{url}/withdraw", {"reason": "Shows the wrong house"}).status_code == 302
    assert fetch(partner, url).status_code == 404
    assert fetch(as_role("officer"), url).status_code == 404
    page = text_of(partner.get(f"/tasks/{task.id}"))
    assert "Withdrawn by Pat Partner" in page and "Shows the wrong house" in page
    assert "File “wrong house.jpg” withdrawn: Shows the wrong house" in page
    assert len(kept_files(uploads)) == 1  # kept on record, not deleted
    assert partner.post(f"{url}/withdraw", {"reason": "again"}).status_code == 400


def test_a_request_over_the_whole_upload_limit_is_refused_with_the_limit(make_app, tmp_path):
    from ..conftest import DEMO_EMAILS

    app = make_app(UPLOAD_DIR=str(tmp_path), MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    with app.app_context():
        task = new_task()
        partner = Browser(app).sign_in(DEMO_EMAILS["partner"])
        response = post_update(partner, task, [("video.pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))], text="x")
        assert response.status_code == 413
        assert "larger than 2 MB, the most the portal takes at once, so nothing was saved" in text_of(response)
        assert the_files(task) == [] and entries(task) == 1


def odt():
    """An OpenDocument text: its first member, ``mimetype``, names the type."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        package.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def test_opendocument_is_accepted_and_a_macro_enabled_word_file_is_not(app, as_role, uploads):
    task = new_task()
    partner = as_role("partner")
    assert post_update(partner, task, [("Survey notes.odt", odt())]).status_code == 302
    assert [f.content_type for f in the_files(task)] == ["application/vnd.oasis.opendocument.text"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType='
                         '"application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>')
        package.writestr("word/document.xml", "<w:document/>")
    refused = post_update(partner, task, [("Rota.docx", out.getvalue())], text="Rota")
    assert refused.status_code == 400 and "Rota.docx: it is named as a Word document but its contents are not" \
        in text_of(refused)


def test_the_task_page_costs_the_same_statements_with_one_file_as_with_ten(app, as_role, uploads):
    import sqlalchemy as sa

    task = new_task()
    partner = as_role("partner")
    post_update(partner, task, [("one.jpg", photo_with_gps())], text="first")
    seen = []

    def counted(*args):
        seen.append(1)

    def statements():
        seen.clear()
        assert partner.get(f"/tasks/{task.id}").status_code == 200
        return len(seen)

    sa.event.listen(db.engine, "before_cursor_execute", counted)
    try:
        statements()  # warmed
        with_one = statements()
        for n in range(3):
            db.session.refresh(task)
            post_update(partner, task, [(f"p{n}-{i}.jpg", photo_with_gps()) for i in range(3)], text=f"more {n}")
        assert len(the_files(task)) == 10
        assert statements() == with_one
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counted)
