"""Whole-portal jobs: seeding and the row-count integrity check."""
from flask import current_app
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db


class SeedRecord(db.Model):
    """A row the seed loaded (or found already there), by its key in the seed files.

    The seed never changes a recorded row again, so what an admin edits (a name, a key,
    a target) stays, and a renamed row is not inserted a second time.
    """

    __tablename__ = "seed_records"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)  # the table
    seed_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    row_id: Mapped[int]


def count_rows():
    """{table name: row count} for every table the portal defines."""
    return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def load_seed(demo_accounts=None):
    """Insert the seed rows that are missing; returns {what: rows created}. Rows already there stay as
    they are (an admin's edits are never overwritten). Does not commit.

    ``demo_accounts=None`` follows DEMO_ACCOUNTS. Seeding explicitly without them (``flask seed --no-demo``),
    or any seeding in production, removes demo accounts a development seed left. Demo accounts are never
    loaded in production (PortalError).
    """
    from seed.loaders import load_all

    from .errors import PortalError

    production = current_app.config["ENV_NAME"] == "production"
    if demo_accounts and production:
        raise PortalError("Demo accounts are never in production (PORTAL_ENV=production): seed with --no-demo.")
    remove_demo = demo_accounts is False or production
    if demo_accounts is None:
        demo_accounts = current_app.config["DEMO_ACCOUNTS"]
    return load_all(current_app.config["SEED_DIR"], demo_accounts=demo_accounts, remove_demo=remove_demo)
