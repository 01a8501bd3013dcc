"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


@pytest.mark.both_databases
def test_models_and_migrations_agree(app, backend):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"run `flask db migrate`: models differ from the migrations: {diff}"
