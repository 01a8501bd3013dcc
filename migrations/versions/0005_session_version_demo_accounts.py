"""users: session version (sign out everywhere) and the demo-account flag

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The accounts seed/loaders.py creates for development (DEMO_USERS), flagged in databases seeded before
# the flag existed, so they can never sign in when such a database is run in production.
DEMO_EMAILS = (
    "admin@demo.shropshire-csp.example.org",
    "officer@demo.shropshire-csp.example.org",
    "partner@demo.shropshire-csp.example.org",
    "analyst@demo.shropshire-csp.example.org",
)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("is_demo", sa.Boolean(), server_default=sa.false(), nullable=False))
    users = sa.table("users", sa.column("email", sa.String), sa.column("is_demo", sa.Boolean))
    op.execute(users.update().where(sa.func.lower(users.c.email).in_(DEMO_EMAILS)).values(is_demo=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_demo")
        batch_op.drop_column("session_version")
