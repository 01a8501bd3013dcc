"""PostgreSQL's binary COPY format, written from pyarrow columns in C++ (no Python per row).

The server stores binary rows faster than CSV text: it parses no numbers or dates and no quotes
(bench/bench_crime.py: the import reaches the bare COPY of the file's text, which CSV did not). A row
is its field count, then each field as a 4-byte length (-1 for NULL) and its bytes; the bytes of a
whole batch of rows are one element-wise join of those pieces, column by column.
https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
"""
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
TRAILER = b"\xff\xff"
EMPTY = pa.scalar(b"", pa.binary())
# How PostgreSQL stores each arrow type the importer writes: numpy's big-endian dtype of the value.
FIXED = {pa.float64(): ">f8", pa.int64(): ">i4", pa.date32(): ">i4"}  # int64 -> integer column
DATE_SHIFT = (date(2000, 1, 1) - date(1970, 1, 1)).days  # PostgreSQL counts days from 2000-01-01


def rows(batch):
    """The batch's rows in binary COPY format (without the signature and trailer), as a pyarrow buffer."""
    count = pa.scalar(len(batch.columns).to_bytes(2, "big"), pa.binary())
    pieces = [count]
    for column in batch.columns:
        pieces.extend(_field(column))
    joined = pc.binary_join_element_wise(*pieces, EMPTY, null_handling="replace", null_replacement="")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=len(joined) + 1, offset=joined.offset * 4)
    return joined.buffers()[2][offsets[0]:offsets[-1]] if len(joined) else pa.py_buffer(b"")


def _field(column):
    """(each row's 4-byte length, each row's bytes: null where the value is NULL) for one column."""
    valid = pc.is_valid(column)
    if column.type == pa.string():
        lengths = pc.fill_null(pc.binary_length(column), -1)
        return _fixed(lengths.to_numpy(zero_copy_only=False).astype(">i4")), column.cast(pa.binary())
    values = column.cast(pa.int32()) if column.type == pa.date32() else column
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    if column.type == pa.date32():
        numbers = numbers - DATE_SHIFT
    width = np.dtype(FIXED[column.type]).itemsize
    lengths = np.where(valid.to_numpy(zero_copy_only=False), width, -1).astype(">i4")
    payload = pc.if_else(valid, _fixed(numbers.astype(FIXED[column.type])), pa.scalar(None, pa.binary()))
    return _fixed(lengths), payload


def _fixed(array):
    """A numpy array of big-endian numbers as a binary column of their bytes, one element per number."""
    width = array.dtype.itemsize
    fixed = pa.Array.from_buffers(pa.binary(width), len(array), [None, pa.py_buffer(array.tobytes())])
    return fixed.cast(pa.binary())
