"""scale indexes: the register's and the public list's newest-first order read from an index

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-01 13:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Newest first (raised_on, then id) is the register's, the public list's and the CSVs' order: with this
    # index page 1 and the first byte of an export come from the index, not a sort of every concern.
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.create_index('ix_concerns_raised_on_id', ['raised_on', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.drop_index('ix_concerns_raised_on_id')
