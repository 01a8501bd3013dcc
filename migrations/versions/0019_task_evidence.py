"""evidence of what worked: concern categories' police.uk crime types, each task's choice of them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'category_crime_types',
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('crime_type', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['concern_categories.id'], ),
        sa.PrimaryKeyConstraint('category_id', 'crime_type'),
    )
    op.create_table(
        'task_evidence',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('crime_types', sa.JSON(), nullable=True),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
        sa.PrimaryKeyConstraint('task_id'),
    )


def downgrade():
    op.drop_table('task_evidence')
    op.drop_table('category_crime_types')
