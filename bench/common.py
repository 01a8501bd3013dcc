"""Shared bench helpers: a migrated, seeded database to measure against, built like `make run` builds one."""
import html
import os
import re
import sys
import tempfile
from pathlib import Path

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
