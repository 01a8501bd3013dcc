"""Photos and documents attached to task updates: the evidence of what was done.

A file is recognised by its bytes, never by its name: images and PDFs by their magic numbers (``filetype``),
office documents (zip containers) by the content type their package declares inside. Images are decoded
and saved again by Pillow, so what is kept holds the picture only: no EXIF (a phone's GPS position), XMP
or comments. The file and the update are one unit of work: the file is written after every check has
passed, and removed again if the unit of work is not committed, so a refused update leaves nothing behind.
Files are never deleted: withdrawn with a reason they stay on disk and in the log, and are no longer served.
Functions here change the session and flush; the caller commits once.
"""
import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

import filetype
from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from ..errors import NotAllowed, PortalError
from ..extensions import db
from ..models import utcnow
from .models import TaskFile
from .policy import can_update, can_view, can_withdraw_file
from .task_log import log
from .tasks import update_task

MAX_FILES = 5  # at once, on one update
MAX_PIXELS = 60_000_000  # a 60-megapixel photo is the largest a phone takes; more is a decompression bomb
FOLDER = "task-files"
FIELD = "files"
ACCEPTED = "JPEG, PNG or WebP photos, PDFs, Word, Excel, PowerPoint and OpenDocument files"
# Each accepted content type, its name for people and the extensions its files may carry.
KINDS = {
    "image/jpeg": ("a JPEG photo", (".jpg", ".jpeg", ".jfif")),
    "image/png": ("a PNG image", (".png",)),
    "image/webp": ("a WebP image", (".webp",)),
    "application/pdf": ("a PDF", (".pdf",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("a Word document", (".docx",)),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("an Excel workbook", (".xlsx",)),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation":
        ("a PowerPoint presentation", (".pptx",)),
    "application/vnd.oasis.opendocument.text": ("an OpenDocument text", (".odt",)),
    "application/vnd.oasis.opendocument.spreadsheet": ("an OpenDocument spreadsheet", (".ods",)),
    "application/vnd.oasis.opendocument.presentation": ("an OpenDocument presentation", (".odp",)),
}
# An OOXML package names its main part's type in [Content_Types].xml; the macro-enabled variants
# (docm, xlsm, pptm) declare other types, so they are refused like any other unknown file.
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml":
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
NAMES_READ = 1024 * 1024  # of a package's [Content_Types].xml or mimetype: they are a few KB


@dataclass
class Accepted:
    """A file that passed every check, not yet written: its name, type and the bytes to keep."""

    name: str
    content_type: str
    body: bytes


def max_file_bytes():
    return current_app.config["TASK_FILE_MAX_MB"] * 1024 * 1024


def _megabytes(size):
    return f"{size / 1024 / 1024:.1f} MB"


def _package_type(body):
    """The content type an office package declares inside itself, or None."""
    try:
        package = zipfile.ZipFile(io.BytesIO(body))
        names = set(package.namelist())
        if "mimetype" in names:  # OpenDocument: the first member, stored, holds the type
            with package.open("mimetype") as member:
                declared = member.read(NAMES_READ).decode("ascii", "replace").strip()
            return declared if declared in KINDS else None
        if "[Content_Types].xml" in names:
            with package.open("[Content_Types].xml") as member:
                types = member.read(NAMES_READ).decode("utf-8", "replace")
            for part, kind in OOXML_MAIN_PARTS.items():
                if f'ContentType="{part}"' in types:
                    return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        return None
    return None


def content_type_of(body):
    """The accepted content type the bytes are, or None."""
    guessed = filetype.guess(body)
    if guessed is None:
        return None
    if guessed.mime in ("image/jpeg", "image/png", "image/webp", "application/pdf"):
        return guessed.mime
    if guessed.extension in ("zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"):
        return _package_type(body)
    return None


def _clean_image(name, body, content_type):
    """The picture alone, saved again in its own format: upright (the EXIF orientation applied), with no
    EXIF, XMP, ICC or text chunks. PortalError naming the file when it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PortalError(f"{name}: the picture is {width:,} × {height:,} pixels, more than we keep; "
                                  "send a smaller copy", field=FIELD)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise PortalError(f"{name}: the file is damaged and could not be read as a picture", field=FIELD) from None
    if content_type == "image/jpeg" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif content_type != "image/jpeg" and upright.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
        upright = upright.convert("RGBA")
    upright.info = {}  # nothing of the original's metadata is carried over by save()
    out = io.BytesIO()
    options = {"quality": 88} if content_type in ("image/jpeg", "image/webp") else {}
    upright.save(out, PILLOW_FORMATS[content_type], exif=b"", **options)
    return out.getvalue()


def accept(file, *, limit=None):
    """A werkzeug FileStorage checked: its size (``limit`` bytes, TASK_FILE_MAX_MB by default), its type from
    its bytes against its name's extension, an image re-encoded without its metadata. Returns Accepted;
    raises PortalError on the ``files`` field, naming the file."""
    limit = limit or max_file_bytes()
    name = PurePath((file.filename or "file").replace("\\", "/")).name[:200] or "file"
    body = file.stream.read(limit + 1)
    if len(body) > limit:
        raise PortalError(f"{name} is larger than {_megabytes(limit)}: files can be up to {_megabytes(limit)} "
                          "each. Nothing was saved", field=FIELD)
    if not body:
        raise PortalError(f"{name} is empty. Nothing was saved", field=FIELD)
    content_type = content_type_of(body)
    extension = PurePath(name).suffix.lower()
    if content_type is None:
        claimed = next((label for label, extensions in KINDS.values() if extension in extensions), None)
        what = f"it is named as {claimed} but its contents are not" if claimed else "its contents are not"
        raise PortalError(f"{name}: {what} one of the files we accept ({ACCEPTED}). Nothing was saved",
                          field=FIELD)
    label, extensions = KINDS[content_type]
    if extension not in extensions:
        raise PortalError(f"{name}: its contents are {label}, but its name ends '{extension or 'without an '}"
                          f"{'' if extension else 'extension'}'; rename it to end {extensions[0]} and attach it "
                          "again. Nothing was saved", field=FIELD)
    if content_type in PILLOW_FORMATS:
        body = _clean_image(name, body, content_type)
    return Accepted(name=name, content_type=content_type, body=body)


def _written(session):
    return session.info.setdefault("task_files_written", [])


@event.listens_for(Session, "after_commit")
def _kept(session):
    # Committed: the files written in this unit of work belong to rows that now exist.
    session.info.pop("task_files_written", None)


@event.listens_for(Session, "after_transaction_end")
def _discard_unsaved(session, transaction):
    # A unit of work rolled back or closed without a commit: its files have no rows, so they go too.
    if transaction.parent is None:
        for path in session.info.pop("task_files_written", []):
            Path(path).unlink(missing_ok=True)


def _keep(task, entry, by, accepted):
    """Write an accepted file under UPLOAD_DIR under a random name and add its row (removed again if the unit
    of work is not committed)."""
    stored_as = f"{FOLDER}/{task.id}/{uuid.uuid4().hex}{KINDS[accepted.content_type][1][0]}"
    path = Path(current_app.config["UPLOAD_DIR"]) / stored_as
    path.parent.mkdir(parents=True, exist_ok=True)
    _written(db.session()).append(str(path))
    with open(path, "xb") as out:
        out.write(accepted.body)
    task_file = TaskFile(task=task, update=entry, name=accepted.name, content_type=accepted.content_type,
                         size=len(accepted.body), stored_as=stored_as, by_id=by.id,
                         organisation_id=by.organisation_id)
    db.session.add(task_file)
    return task_file


def update_with_files(task, *, by, files=(), **update):
    """update_task (its arguments in ``update``) with photos and documents attached to its log entry: each
    file is checked (``accept``) before anything changes, then kept with the entry; a file alone is an
    update. Raises what update_task raises, PortalError on the ``files`` field naming a refused file, or
    NotAllowed. Flushes; the caller commits (or rolls back, and the files are removed)."""
    files = [f for f in files if f and f.filename]
    if files and not can_update(by, task):
        raise NotAllowed("You can add files only to your organisation's tasks")
    if len(files) > MAX_FILES:
        raise PortalError(f"Attach up to {MAX_FILES} files to one update; you chose {len(files)}", field=FIELD)
    accepted = [accept(file) for file in files]
    entry = update_task(task, by=by, with_files=bool(accepted), **update)
    for each in accepted:
        _keep(task, entry, by, each)
    db.session.flush()
    return entry


def files_of(task):
    """The task's files, oldest first, with who added and withdrew them."""
    return db.session.execute(
        select(TaskFile).where(TaskFile.task_id == task.id).order_by(TaskFile.id)
        .options(selectinload(TaskFile.by), selectinload(TaskFile.organisation),
                 selectinload(TaskFile.withdrawn_by))).scalars().all()


def file_of(task, file_id):
    """The task's file with this id, or None (an id of another task's file is no file of this one)."""
    task_file = db.session.get(TaskFile, file_id) if file_id else None
    return task_file if task_file is not None and task_file.task_id == task.id else None


def servable(by, task, file_id):
    """(TaskFile, path) of a file ``by`` may fetch: one of a task they may see, not withdrawn, still on
    disk; None otherwise. NotAllowed when they may not see the task."""
    if not can_view(by, task):
        raise NotAllowed("You can open only the files of tasks you can see")
    task_file = file_of(task, file_id)
    if task_file is None or task_file.withdrawn_at is not None:
        return None
    path = Path(current_app.config["UPLOAD_DIR"]) / task_file.stored_as
    return (task_file, path) if path.is_file() else None


def withdraw_file(task_file, *, by, reason):
    """Withdraw a file with a reason: kept on disk, no longer served, the task's log saying who and why.
    Raises NotAllowed (only who added it, an officer of the area or an admin), or PortalError on ``reason``.
    Flushes; the caller commits."""
    if not can_withdraw_file(by, task_file):
        raise NotAllowed("Only the person who added a file, an officer of the task's area or an admin "
                         "withdraws it")
    if task_file.withdrawn_at is not None:
        raise PortalError(f"{task_file.name} was already withdrawn", field="reason")
    if not (reason or "").strip():
        raise PortalError("Say why the file is being withdrawn", field="reason")
    task_file.withdrawn_at, task_file.withdrawn_by_id = utcnow(), by.id
    task_file.withdrawn_reason = reason.strip()
    entry = log(task_file.task, by, text=f"File “{task_file.name}” withdrawn: {reason.strip()}",
                version=task_file.task.version_id)
    db.session.flush()
    return entry
