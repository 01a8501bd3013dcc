"""review loop: indexes the paged task list and the review queue read in order

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 13:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_status_due_on_id', ['status', 'due_on', 'id'], unique=False)
        batch_op.create_index('ix_tasks_review_queue', ['status', 'published', 'completed_on', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_review_queue')
        batch_op.drop_index('ix_tasks_status_due_on_id')
