"""concern corrections: a public reason for no further action or escalation, edit history values

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn', sa.String(length=10), nullable=False, server_default=''))
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.alter_column('public_reason', server_default=None)
        batch_op.alter_column('withdrawn', server_default=None)
    with op.batch_alter_table('concern_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('old_value', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('new_value', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('concern_events', schema=None) as batch_op:
        batch_op.drop_column('new_value')
        batch_op.drop_column('old_value')
        batch_op.drop_column('field')
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.drop_column('withdrawn')
        batch_op.drop_column('decided_on')
        batch_op.drop_column('public_reason')
