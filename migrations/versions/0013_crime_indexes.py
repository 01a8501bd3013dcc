"""crime indexes: a BRIN index on month instead of the composite B-tree

A month's rows arrive together (one COPY per file), so a BRIN index on month finds them (the replace
check, the repeated Crime IDs) at a fraction of the composite B-tree's cost per imported row; the rollup
and the pages read crime_monthly_counts, not the rows. On SQLite it is a plain index on month.

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-01 13:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('crime_records', schema=None) as batch_op:
        batch_op.drop_index('ix_crime_records_month_locality_type')
        batch_op.create_index('ix_crime_records_month', ['month'], unique=False, postgresql_using='brin',
                              postgresql_with={'autosummarize': 'on'})


def downgrade():
    with op.batch_alter_table('crime_records', schema=None) as batch_op:
        batch_op.drop_index('ix_crime_records_month', postgresql_using='brin')
        batch_op.create_index('ix_crime_records_month_locality_type', ['month', 'locality_id', 'crime_type'],
                              unique=False)
