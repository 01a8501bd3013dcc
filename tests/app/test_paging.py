"""Long lists paged by position: walking the register (in each of its orders) and the public list by their
Next links shows every concern exactly once, in the order an independent sort of all of them gives, and
walking back by the Previous links shows the same pages. The Next and Previous pages are read from a
position, never by skipping rows (no OFFSET), so page 2,000 costs what page 2 does (bench/bench_scale.py
measures it at 100,000 concerns)."""
import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from portal.concerns.models import Concern, ConcernCategory
from portal.extensions import db
from portal.places.models import Locality
from portal.public.services import PUBLIC_STATUS

pytestmark = pytest.mark.both_databases

NEXT = re.compile(r'href="([^"]+)" rel="next"')
PREVIOUS = re.compile(r'href="([^"]+)" rel="prev"')


def add_concerns(n=70):
    """Concerns that share dates, counts and statuses, so every order's later keys and the id decide."""
    wem = db.session.execute(select(Locality).where(Locality.key == "wem")).scalar_one()
    category = db.session.execute(select(ConcernCategory).order_by(ConcernCategory.id)).scalars().first()
    for i in range(n):
        published = i % 3 != 0
        db.session.add(Concern(locality=wem, category=category, source="pact", you_said=f"Paging concern {i}",
                               raised_on=date(2026, 6, 1) - timedelta(days=i // 4), raised_count=1 + i % 3,
                               status="responded" if published else ("new", "accepted")[i % 2],
                               we_did="Patrols" if published else "", published=published,
                               responded_on=date(2026, 6, 2) if published else None))
    db.session.commit()


def walk(browser, url, ids_on):
    """Every page from ``url`` by its Next links, then back by the Previous links: (pages, pages back)."""
    pages, response = [], browser.get(url)
    while True:
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        pages.append(ids_on(body))
        found = NEXT.search(body)
        if not found:
            break
        response = browser.get(html.unescape(found.group(1)))
    back = [pages[-1]]
    while (found := PREVIOUS.search(body)):
        body = browser.get(html.unescape(found.group(1))).get_data(as_text=True)
        back.append(ids_on(body))
    return pages, back[::-1]


def register_ids(body):
    return [int(i) for i in re.findall(r'href="/concerns/(\d+)"', body)]


def public_ids(body):
    return [int(i) for i in re.findall(r'id="ysd-(\d+)"', body)]


SORT_KEYS = {  # the orders, written again in Python: (key, reverse)
    "newest": (lambda c: (c.raised_on, c.id), True),
    "oldest": (lambda c: (c.raised_on, c.id), False),
    "most_raised": (lambda c: (c.raised_count, c.raised_on, c.id), True),
    "status": (lambda c: (c.status, -c.raised_on.toordinal(), -c.id), False),
}


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_the_register_walked_by_next_and_previous_shows_every_concern_once_in_order(app, as_role, sort):
    add_concerns()
    key, reverse = SORT_KEYS[sort]
    expected = [c.id for c in sorted(db.session.execute(select(Concern)).scalars(), key=key, reverse=reverse)]
    pages, back = walk(as_role("admin"), f"/concerns/?sort={sort}", register_ids)
    assert len(pages) > 3
    assert [i for page in pages for i in page] == expected
    assert back == pages


def test_the_public_list_walked_by_next_and_previous_shows_every_published_concern_once(app, browser):
    add_concerns()
    public = sorted(db.session.execute(select(Concern).where(Concern.published.is_(True))).scalars(),
                    key=lambda c: (c.raised_on, c.id), reverse=True)
    pages, back = walk(browser, "/you-said-we-did", public_ids)
    assert [i for page in pages for i in page] == [c.id for c in public if c.status in PUBLIC_STATUS]
    assert back == pages


def test_next_and_previous_pages_are_read_from_a_position_not_by_skipping_rows(app, as_role):
    add_concerns()
    admin, sql = as_role("admin"), []

    def remember(conn, cursor, statement, *args):
        sql.append(statement.upper())

    page_2 = NEXT.search(admin.get("/concerns/").get_data(as_text=True)).group(1)
    sa.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page_3 = NEXT.search(admin.get(html.unescape(page_2)).get_data(as_text=True)).group(1)
        admin.get(html.unescape(page_3))
        by_position = [s for s in sql if "FROM CONCERNS" in s and "LIMIT" in s]
        sql.clear()
        admin.get("/concerns/?page=3")  # a page typed or picked by number is still found by counting
        by_number = [s for s in sql if "FROM CONCERNS" in s and "LIMIT" in s]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", remember)
    seek = re.compile(r"\(CONCERNS\.RAISED_ON, CONCERNS\.ID\) [<>]")
    assert len(by_position) == 2 and all(seek.search(s) for s in by_position)
    if db.engine.dialect.name != "sqlite":  # SQLite's SQL always says OFFSET, with 0 here
        assert not any("OFFSET" in s for s in by_position)
    assert by_number and not any(seek.search(s) for s in by_number) and all("OFFSET" in s for s in by_number)


def test_a_made_up_position_reads_as_the_numbered_page(app, as_role):
    add_concerns()
    admin = as_role("admin")
    plain = register_ids(admin.get("/concerns/?page=2").get_data(as_text=True))
    for junk in ("x", "2026-13-01.5", "2026-06-01.-3", "2026-06-01", "1.2.3", "2026-06-01.9" * 30):
        response = admin.get(f"/concerns/?page=2&after={junk}")
        assert response.status_code == 200
        assert register_ids(response.get_data(as_text=True)) == plain


def last_page_link(body):
    """The link to the last page, as the pagination shows it (its number, after an ellipsis)."""
    links = set(re.findall(r'href="([^"]*tail=[^"]*)"', body))
    assert len(links) == 1, links
    return html.unescape(links.pop())


@pytest.mark.parametrize("sort", ["newest", "status"])
def test_the_last_page_link_shows_the_end_of_the_list_read_back_from_it_not_by_skipping_rows(app, as_role, sort):
    add_concerns()
    key, reverse = SORT_KEYS[sort]
    expected = [c.id for c in sorted(db.session.execute(select(Concern)).scalars(), key=key, reverse=reverse)]
    last_number = -(-len(expected) // 25)  # the register's 25 a page
    admin, sql = as_role("admin"), []
    link = last_page_link(admin.get(f"/concerns/?sort={sort}").get_data(as_text=True))

    def remember(conn, cursor, statement, *args):
        sql.append(statement.upper())

    sa.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        shown = register_ids(admin.get(link).get_data(as_text=True))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", remember)
    assert shown == expected[(last_number - 1) * 25:]
    assert shown == register_ids(admin.get(f"/concerns/?sort={sort}&page={last_number}").get_data(as_text=True))
    if db.engine.dialect.name != "sqlite":  # SQLite's SQL always says OFFSET, with 0 here
        assert not any("OFFSET" in s for s in sql if "FROM CONCERNS" in s and "LIMIT" in s)


def test_the_public_lists_last_page_link_shows_its_oldest_published_concerns(app, browser):
    add_concerns()
    public = [c.id for c in sorted(db.session.execute(select(Concern).where(Concern.published.is_(True))).scalars(),
                                   key=lambda c: (c.raised_on, c.id), reverse=True) if c.status in PUBLIC_STATUS]
    shown = public_ids(browser.get(last_page_link(browser.get("/you-said-we-did").get_data(as_text=True)))
                       .get_data(as_text=True))
    assert shown == public[(-(-len(public) // 20) - 1) * 20:]


def test_a_made_up_last_page_size_reads_as_the_numbered_page(app, as_role):
    add_concerns()
    admin = as_role("admin")
    plain = register_ids(admin.get("/concerns/?page=3").get_data(as_text=True))
    for junk in ("x", "0", "-3", "26", "99999999999999999999", "3" * 200):
        response = admin.get(f"/concerns/?page=3&tail={junk}")
        assert response.status_code == 200
        assert register_ids(response.get_data(as_text=True)) == plain
    assert register_ids(admin.get("/concerns/?tail=5").get_data(as_text=True)) == register_ids(
        admin.get("/concerns/").get_data(as_text=True))  # page 1 is always read from the top
