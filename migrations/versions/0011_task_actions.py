"""task actions: each task names the delivery-plan action it serves

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-01 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: tasks raised before this release name no action.
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tasks_action_id'), ['action_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_action_id_plan_actions'), 'plan_actions',
                                    ['action_id'], ['id'])


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_action_id_plan_actions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tasks_action_id'))
        batch_op.drop_column('action_id')
