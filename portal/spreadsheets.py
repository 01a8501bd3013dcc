"""CSV files people open in spreadsheets: every export writes through here.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to
Excel and LibreOffice, so text a resident or partner typed ("=HYPERLINK(...)")
could run when an officer opens the export. As OWASP advises for CSV
injection, such text cells are prefixed with a single quote; numbers are left
as numbers.
"""
import csv
import io

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The value as a spreadsheet will show it, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class Writer:
    """csv.writer whose text cells are neutralised."""

    def __init__(self, buffer, **options):
        self.writer = csv.writer(buffer, **options)

    def writerow(self, row):
        return self.writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose text cells are neutralised."""

    def __init__(self, buffer, fieldnames, **options):
        super().__init__(buffer, fieldnames, **options)
        self.writer = Writer(buffer)


CHUNK_BYTES = 64_000


def streamed(header, rows):
    """The CSV text of ``header`` and ``rows`` (sequences), neutralised, in pieces of about 64 KB as the
    rows arrive: an export of any size starts at once and holds one piece in memory."""
    buffer = io.StringIO()
    writer = Writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
