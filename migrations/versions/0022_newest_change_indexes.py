"""newest change indexes: the latest change to a concern or a task read from an index, not a scan; a
partner's task list read in order from the tasks its organisation leads; the task export in its order

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 19:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_concerns_updated_at', 'concerns', ['updated_at'], unique=False)
    op.create_index('ix_tasks_updated_at', 'tasks', ['updated_at'], unique=False)
    op.create_index('ix_tasks_due_on_id', 'tasks', ['due_on', 'id'], unique=False)
    op.create_index('ix_tasks_lead_status_due_on_id', 'tasks', ['lead_organisation_id', 'status', 'due_on', 'id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_tasks_lead_status_due_on_id', table_name='tasks')
    op.drop_index('ix_tasks_due_on_id', table_name='tasks')
    op.drop_index('ix_tasks_updated_at', table_name='tasks')
    op.drop_index('ix_concerns_updated_at', table_name='concerns')
