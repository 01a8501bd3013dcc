"""A partner attaches a photo to a task update from a phone, in real Chromium, and sees it on the task."""
import io

import pytest
from PIL import ExifTags, Image

from ..factories import new_task
from .conftest import serious_violations, shot, sign_in, with_axe

pytestmark = pytest.mark.browser


@pytest.fixture
def uploads(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def phone_photo(path):
    """A photo as a phone saves it, with the GPS position in its EXIF."""
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (52.0, 42.0, 30.0)
    Image.new("RGB", (400, 300), (40, 120, 40)).save(path, "JPEG", exif=exif)
    return path


def test_a_partner_attaches_a_photo_to_an_update_on_a_phone(app, live_server, page, uploads, tmp_path):
    task = new_task()
    page.set_viewport_size({"width": 320, "height": 640})
    with_axe(page)
    sign_in(page, live_server, "partner")
    page.goto(f"{live_server}/tasks/{task.id}")
    # A file that only says it is a PDF is refused on the form, naming it, and the summary leads to the field.
    fake = tmp_path / "Minutes.pdf"
    fake.write_bytes(b"not a pdf at all")
    page.fill("#text", "Bus shelter cleaned")
    page.set_input_files("#files", str(fake))
    page.click("button:has-text('Save update')")
    link = page.locator(".govuk-error-summary a[href='#files']")
    assert "Minutes.pdf: it is named as a PDF but its contents are not" in link.inner_text()
    assert serious_violations(page) == []
    link.click()
    assert page.evaluate("() => document.activeElement.id") == "files"
    # The photo chosen again (a browser never keeps a file across a refusal), the update saved by keyboard.
    page.set_input_files("#files", str(phone_photo(tmp_path / "IMG_0042.jpg")))
    page.fill("#text", "Bus shelter cleaned")
    page.focus("button:has-text('Save update')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Update saved." in page.inner_text(".govuk-notification-banner, main")
    files = page.locator("#task-files + ul.task-files")
    assert "IMG_0042.jpg" in files.inner_text() and "Added by Pat Partner" in files.inner_text()
    thumb = page.locator("img.task-file-thumb")
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 400
    # Nothing runs off a 320 px screen: the page does not scroll sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    assert serious_violations(page) == []
    shot(page, "task-photo-phone")
    src = thumb.get_attribute("src")
    served = page.request.get(f"{live_server}{src}")
    assert served.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.body())).getexif()
    assert page.errors == []
