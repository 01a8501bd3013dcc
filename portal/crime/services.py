"""Importing police.uk street-level crime files: streamed, validated, all-or-nothing per file.

A file is one force's month. Importing a month again replaces it. The file is
read a block at a time, column by column, and written in batches (COPY on
PostgreSQL), so memory stays flat however large the file; one bad row rolls
the whole file back and the message names the file, row, column and reason
(the row-by-row reader's, see ``rows``). The files and their
limits are in ``sources``, the row parser and the batch writer in ``rows``.
"""
import csv
import io
import logging
import time

from sqlalchemy import delete, insert, select

from ..errors import ImportRejected
from ..extensions import db
from ..models import utcnow
from .models import CrimeImport, CrimeMonthlyCount, CrimeRecord
from .rows import BatchWriter, NotUtf8, RepeatedIds, WardMatcher, first_bad_line, parse_rows, read_batches, row_batches
from .sources import CountingReader, display_name, sources

log = logging.getLogger(__name__)


def import_source(source, *, by=None, matcher=None, progress=None, hold_seconds=0):
    """Import one file whole, replacing its force's month. Commits; raises ImportRejected with nothing saved.
    ``hold_seconds``: tests pause here, mid-file, to kill the worker."""
    matcher = matcher or WardMatcher()
    try:
        return _import(source, by, matcher, progress, hold_seconds, columnar=True)
    except Exception as doubt:  # nothing of it was saved: the row-by-row reader imports it or names the fault
        log.debug("Reading %s row by row: %r", source.name, doubt)
    return _import(source, by, matcher, progress, hold_seconds, columnar=False)


def _import(source, by, matcher, progress, hold_seconds, columnar):
    run = CrimeImport(file_name=source.name, by_id=getattr(by, "id", None))
    db.session.add(run)
    db.session.flush()
    counter = CountingReader(source.opener())
    writer = None
    try:
        writer = BatchWriter()
        binary = io.BufferedReader(counter)
        batches = (read_batches(source.name, binary, matcher, run.id) if columnar
                   else row_batches(parse_rows(source.name, binary, matcher, run.id)))
        for kind, values in batches:
            if kind == "start":
                run.month, run.force = values
                run.replaced = _replace_month(run.force, run.month)
                continue
            writer.write(values)
            if hold_seconds:
                time.sleep(hold_seconds)  # the crash tests kill the worker here, mid-transaction
                hold_seconds = 0
            if progress:
                progress(counter.count, source.size)
        writer.close()
        if writer.rows == 0:
            raise ImportRejected(source.name, reason="the file has a header but no rows")
        _count_month(run, writer.counts)
        run.repeated_ids, run.quality_note = _repeated_ids(source, writer.crime_ids.candidates())
        run.rows, run.matched, run.unmatched = writer.rows, writer.matched, writer.rows - writer.matched
        run.status, run.finished_at = "done", utcnow()
        db.session.commit()
    except NotUtf8:
        _abandon(writer)
        db.session.rollback()
        row, byte = first_bad_line(source)
        raise ImportRejected(source.name, row=row, reason=f"the file is not UTF-8 text (byte 0x{byte:02x}); "
                                                          "police.uk files are UTF-8") from None
    except Exception:
        _abandon(writer)
        db.session.rollback()
        raise
    finally:
        counter.raw.close()
    if progress:
        progress(source.size, source.size)
    return run


def _replace_month(force, month):
    """Delete the force's month before its rows are written again; returns how many rows it held.

    Crime rows come only from imports, so a month no import completed holds none: that check reads
    the imports' own records (a few rows a month), never the crime rows, whose statistics know
    nothing of the months imported since the last ANALYZE (a DELETE planned on them read the whole
    table: 0.3 s at 4 million rows, every import)."""
    db.session.execute(delete(CrimeMonthlyCount).where(CrimeMonthlyCount.force == force,
                                                       CrimeMonthlyCount.month == month))
    held = db.session.execute(select(CrimeImport.id).where(
        CrimeImport.force == force, CrimeImport.month == month, CrimeImport.status == "done").limit(1)).first()
    if held is None:
        return 0
    return db.session.execute(delete(CrimeRecord).where(CrimeRecord.force == force,
                                                        CrimeRecord.month == month)).rowcount


def _abandon(writer):
    if writer is not None:
        try:
            writer.close(failed=True)
        except Exception:  # the transaction is rolled back next anyway
            pass


def _count_month(run, counts):
    """The month's counts by ward and type, as the writer counted the rows it wrote, in the same transaction."""
    if counts:
        db.session.execute(insert(CrimeMonthlyCount), [
            {"month": run.month, "locality_id": ward, "crime_type": kind, "force": run.force, "n": n}
            for (ward, kind), n in sorted(counts.items())])


def _repeated_ids(source, candidates, shown=5):
    """(how many Crime IDs appear on more than one row, a note naming their rows).

    police.uk sometimes gives one Crime ID to two different records (another place, another
    outcome): both are real records, so both are kept and counted; the analyst is told. The writer
    names the suspects as the rows go by (``RepeatedIds``); only when there are some is the file
    read again, to settle them and name their rows.
    """
    if not candidates:
        return 0, ""
    with source.opener() as binary:
        reader = csv.reader(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        at = [h.strip() for h in next(reader)].index("Crime ID")
        found = RepeatedIds.repeated(((row[at].strip(), reader.line_num) for row in reader if len(row) > at),
                                     candidates)
    if not found:
        return 0, ""
    repeated = list(found)
    listed = "; ".join(f"rows {', '.join(map(str, found[crime_id]))} share Crime ID {crime_id[:12]}..."
                       for crime_id in repeated[:shown])
    more = f"; and {len(repeated) - shown} more" if len(repeated) > shown else ""
    return len(repeated), (f"{len(repeated)} Crime ID{'s' if len(repeated) != 1 else ''} appear on more than one "
                           f"row; every row was imported and counted ({listed}{more}).")


def record_rejection(source_name, message, by=None):
    """Keep a line in the import history for a refused file (none of its rows are saved)."""
    db.session.add(CrimeImport(file_name=display_name(source_name), status="rejected", message=message,
                               by_id=getattr(by, "id", None), finished_at=utcnow()))
    db.session.commit()


def import_paths(paths, *, by=None, progress=None, hold_seconds=0):
    """Import every file; a refused file changes nothing, the others still import. Returns (runs, errors)."""
    matcher = WardMatcher()
    runs, errors, found = [], [], []
    for path in paths:
        try:
            found.extend(sources([path]))
        except ImportRejected as error:
            record_rejection(error.file, error.message, by)
            errors.append(error)
    for source in found:
        try:
            runs.append(import_source(source, by=by, matcher=matcher, hold_seconds=hold_seconds,
                                      progress=((lambda done, total, s=source: progress(s, done, total))
                                                if progress else None)))
            log.info("Imported %s: %s rows for %s", source.name, runs[-1].rows, runs[-1].month,
                     extra={"file": source.name, "month": runs[-1].month, "rows": runs[-1].rows})
        except ImportRejected as error:
            record_rejection(source.name, error.message, by)
            errors.append(error)
            log.info("Refused %s", error.message, extra={"file": source.name, "refused": error.message})
    return runs, errors


def months_imported():
    """The months some import completed, oldest first: from the imports' own records (a few rows a month),
    never a scan of the crime rows."""
    return list(db.session.execute(select(CrimeImport.month).where(CrimeImport.status == "done",
                                                                   CrimeImport.month.is_not(None))
                                   .distinct().order_by(CrimeImport.month)).scalars())


def recent_imports(limit=50):
    return db.session.execute(select(CrimeImport).order_by(CrimeImport.id.desc()).limit(limit)).scalars().all()
