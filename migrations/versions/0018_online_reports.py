"""concerns residents raise online: the email address to tell the outcome, kept until then

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 16:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('online_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('email_cleared_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_online_reports_concern_id_concerns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_reports')),
    sa.UniqueConstraint('concern_id', name=op.f('uq_online_reports_concern_id')),
    sa.UniqueConstraint('token', name=op.f('uq_online_reports_token'))
    )


def downgrade():
    op.drop_table('online_reports')
