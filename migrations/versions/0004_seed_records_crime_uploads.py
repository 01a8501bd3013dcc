"""what the seed loaded; police.uk uploads followed to the end

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('seed_records',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('seed_key', sa.String(length=400), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'seed_key', name=op.f('pk_seed_records'))
    )


def downgrade():
    op.drop_table('seed_records')
