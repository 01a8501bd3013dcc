"""Pages of a long list that cost the same at page 2,000 as at page 1.

A numbered page (``?page=N``) is found by skipping rows, so its cost grows with N. Every page link a list
shows avoids that: the Previous and Next links (and the links to the pages either side) carry the
position of the row the page starts after (``after=``) or ends before (``before=``), and the link to the
last page how many rows it holds (``tail=``): the page is then read from the list's index from that row
on, or back from the end (keyset paging), whatever the table's size. Only a page number typed into the
address skips rows. A position that is not one reads as the numbered page.

A position is the sort key of one row written out, e.g. ``2026-11-30.4512`` for newest first.
"""
from datetime import date

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import and_, or_, tuple_

from .forms import parse_id

TOKEN_LENGTH = 120


class Order:
    """A list's order: (column, descending, kind) from first key to last, the last one unique (the id).
    ``kind`` is how a position's value is read back: "date", "int" or "key" (a status name)."""

    def __init__(self, *keys):
        self.keys = keys

    def by(self, backwards=False):
        return [col.desc() if descending != backwards else col.asc() for col, descending, _ in self.keys]

    def position_of(self, item):
        return ".".join(str(getattr(item, col.key)) for col, _, _ in self.keys)

    def parse(self, token):
        """The values of a position token, or None if it is not one."""
        parts = (token or "")[:TOKEN_LENGTH].split(".")
        if len(parts) != len(self.keys):
            return None
        values = []
        for text, (_, _, kind) in zip(parts, self.keys, strict=True):
            if kind == "int":
                value = parse_id(text)
            elif kind == "date":
                try:
                    value = date.fromisoformat(text) if len(text) == 10 else None
                except ValueError:
                    value = None
            else:
                value = text if text.replace("_", "").isalpha() and text.isascii() else None
            if value is None:
                return None
            values.append(value)
        return values

    def beyond(self, values, backwards=False):
        """The rows that come after the position in this order (before it, ``backwards``)."""
        columns = [col for col, _, _ in self.keys]
        directions = {descending for _, descending, _ in self.keys}
        if len(directions) == 1:  # one row-value comparison, which the index answers as a range
            later_is_less = directions.pop() != backwards
            key, there = tuple_(*columns), tuple_(*values)
            return key < there if later_is_less else key > there
        clauses = []
        for i, (col, descending, _) in enumerate(self.keys):
            later = col < values[i] if descending != backwards else col > values[i]
            clauses.append(and_(*[c == v for c, v in zip(columns[:i], values[:i], strict=True)], later))
        return or_(*clauses)


class SeekPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination (page numbers, totals, the pagination macro's attributes), reading
    the page from a position when the request carries one. Build with ``seek_page``."""

    def _query_items(self):
        order, session = self._query_args["order"], self._query_args["session"]
        select = self._query_args["select"].order_by(None)
        for name, backwards in (("after", False), ("before", True)):
            values = order.parse(self._query_args.get(name))
            if values is not None and self.page > 1:
                query = select.where(order.beyond(values, backwards)).order_by(*order.by(backwards))
                items = list(session.execute(query.limit(self.per_page)).unique().scalars())
                return items[::-1] if backwards else items
        tail = parse_id(self._query_args.get("tail") or "")
        if tail and tail <= self.per_page and self.page > 1:  # the last page, read back from the end
            items = list(session.execute(select.order_by(*order.by(True)).limit(tail)).unique().scalars())
            return items[::-1]
        return list(session.execute(select.order_by(*order.by()).limit(self.per_page)
                                    .offset(self._query_offset)).unique().scalars())

    def link_args(self, number):
        """The query arguments of the link to page ``number``: a position for the pages either side."""
        order = self._query_args["order"]
        if self.items and number == self.page + 1:
            return {"page": number, "after": order.position_of(self.items[-1])}
        if self.items and number == self.page - 1 and number > 1:
            return {"page": number, "before": order.position_of(self.items[0])}
        if number == self.pages and number > 1:
            return {"page": number, "tail": self.total - (number - 1) * self.per_page}
        return {"page": number}


def seek_page(session, select, order, *, page, per_page, after=None, before=None, tail=None, total=None):
    """One page of ``select`` in ``order``: after (or before) a position from a page link, the last
    ``tail`` rows, else page ``page`` by number. ``total`` when the caller has counted already (no count
    query then)."""
    pagination = SeekPagination(page=page, per_page=per_page, max_per_page=None, error_out=False,
                                count=total is None, select=select, session=session, order=order,
                                after=after, before=before, tail=tail)
    if total is not None:
        pagination.total = total
    return pagination


def position_args(args):
    """A request's query arguments without the page and its position (to build other pages' links)."""
    return {k: v for k, v in args.items() if k not in ("page", "after", "before", "tail")}
