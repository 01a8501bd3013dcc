"""task maintenance: each change of a task's details in its log, and the 'We did' as last published

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('old_value', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('new_value', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_we_did', sa.Text(), nullable=False, server_default=''))
    # A task already published was published with the text it holds: nothing of it awaits review.
    op.execute("UPDATE tasks SET published_we_did = we_did WHERE published")


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('published_we_did')
    with op.batch_alter_table('task_updates', schema=None) as batch_op:
        batch_op.drop_column('new_value')
        batch_op.drop_column('old_value')
        batch_op.drop_column('field')
