"""police.uk files as the importer reads them: CSV files and the members of zips, each read within
limits (a name's length, what a zip member may inflate to) before any row is parsed."""
import csv
import io
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImportRejected

# police.uk rows are a few hundred characters; a longer line is refused as soon as it passes this.
MAX_LINE = 65_536
# police.uk CSVs deflate about 8:1; a zip bomb inflates thousands of times. Checked while inflating.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024  # tiny members may compress better than that without harm
MAX_NAME = 255  # CrimeImport.file_name


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


def display_name(text):
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
                raise ImportRejected(display_name(path.name),
                                     reason="is not a zip file, or the zip is damaged") from None
            if not members:
                raise ImportRejected(display_name(path.name), reason="the zip holds no CSV files")
            members.sort(key=lambda m: m.filename)
            _refuse_repeated_months(path, members)
            for member in members:
                found.append(Source(display_name(f"{path.name}:{member.filename}"), member.file_size,
                                    lambda p=path, m=member.filename: zip_member(p, m)))
        else:
            found.append(Source(display_name(path.name), path.stat().st_size, lambda p=path: open(p, "rb")))
    return found


def _first_row(path, member):
    """(month, force) of a member's first row, or None when it cannot tell (the import then says why)."""
    try:
        with zip_member(path, member) as binary:
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
            raise ImportRejected(display_name(path.name), reason=(
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


def zip_member(path, member):
    """The member as a buffered file object, inflated within limits; closing it closes the archive too."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ImportRejected(display_name(path.name), reason="is not a zip file, or the zip is damaged") from None
    return io.BufferedReader(_Inflating(archive, member, display_name(f"{path.name}:{member}")))


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
