"""Shared bench helpers: a migrated, seeded database to measure against, built like `make run` builds one."""
import html
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seeded_database(url=None):
    """A fresh migrated and seeded database; a temporary SQLite file unless BENCH_DATABASE_URL is set."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig
    from portal.extensions import db
    from portal.maintenance import load_seed

    url = url or os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app(TestConfig(database_url=url))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_seed(demo_accounts=True)
        db.session.commit()
    return app, url


class Statements:
    """SQL statements sent by the app's engine, and how long each took (cursor execute listeners)."""

    def __init__(self, engine):
        self.count, self.timed, self.started, self.first_request = 0, [], None, []
        sa.event.listen(engine, "before_cursor_execute", self.seen)
        sa.event.listen(engine, "after_cursor_execute", self.done)

    def seen(self, conn, cursor, statement, *args):
        self.count += 1
        self.started = time.perf_counter()

    def done(self, conn, cursor, statement, *args):
        self.timed.append((time.perf_counter() - self.started, statement))

    def slowest(self, n):
        """The slowest statements of the page's first request."""
        return sorted(self.first_request, reverse=True)[:n]


def sign_in(app, email):
    """A test client signed in as a seeded demo user, through the sign-in form like a person."""
    from seed.loaders import DEMO_PASSWORD

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"could not sign in as {email}"
    return client


def report(title, rows):
    """Print a small table of (what, figure, unit, target or '')."""
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    for what, figure, unit, target in rows:
        print(f"  {what:<{width}}  {figure:>12,.2f} {unit:<8} {target}")


def next_link(app, client, url):
    """The Next link of a page, as a person clicking through the list follows it (a position, not a number)."""
    with app.app_context():
        body = client.get(url).get_data(as_text=True)
    found = re.search(r'href="([^"]+)" rel="next"', body)
    return html.unescape(found.group(1)) if found else url


def last_page_link(app, client, url):
    """The link to a list's last page, as its pagination shows it (read back from the end of the list)."""
    with app.app_context():
        body = client.get(url).get_data(as_text=True)
    found = re.search(r'href="([^"]*tail=[^"]*)"', body)
    return html.unescape(found.group(1)) if found else url
