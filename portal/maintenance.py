"""Whole-portal jobs: seeding and the row-count integrity check."""
from flask import current_app
from sqlalchemy import func, select

from .extensions import db


def count_rows():
    """{table name: row count} for every table the portal defines."""
    return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def load_seed(demo_accounts=None):
    """Load or refresh all seed data; returns {what: rows created}. Does not commit.

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
