"""followers: residents' confirmed email addresses and the places they follow

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 16:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('last_digest_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followers')),
    sa.UniqueConstraint('email', name=op.f('uq_followers_email'))
    )
    op.create_table('followed_places',
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('locality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['follower_id'], ['followers.id'], name=op.f('fk_followed_places_follower_id_followers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['locality_id'], ['localities.id'],
                            name=op.f('fk_followed_places_locality_id_localities')),
    sa.PrimaryKeyConstraint('follower_id', 'locality_id', name=op.f('pk_followed_places'))
    )
    with op.batch_alter_table('followed_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followed_places_locality_id'), ['locality_id'], unique=False)


def downgrade():
    with op.batch_alter_table('followed_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followed_places_locality_id'))
    op.drop_table('followed_places')
    op.drop_table('followers')
