"""residents' answers to "Has this made a difference?" and their moderated comments

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('browser_hash', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('comment_status', sa.String(length=10), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.Column('moderated_at', sa.DateTime(), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('redacted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_feedback_answers_concern_id_concerns')),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['users.id'], name=op.f('fk_feedback_answers_moderated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answers')),
    sa.UniqueConstraint('concern_id', 'browser_hash', name='uq_feedback_answers_browser')
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answers_answered_at'), ['answered_at'], unique=False)
        batch_op.create_index('ix_feedback_answers_concern_id_status', ['concern_id', 'comment_status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_answers_concern_id_status')
        batch_op.drop_index(batch_op.f('ix_feedback_answers_answered_at'))
    op.drop_table('feedback_answers')
