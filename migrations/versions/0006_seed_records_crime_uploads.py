"""what the seed loaded; police.uk uploads followed to the end

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('crime_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('paths', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('task_id', sa.String(length=60), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_crime_uploads_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crime_uploads'))
    )
    op.create_table('seed_records',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('seed_key', sa.String(length=400), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'seed_key', name=op.f('pk_seed_records'))
    )


def downgrade():
    op.drop_table('seed_records')
    op.drop_table('crime_uploads')
