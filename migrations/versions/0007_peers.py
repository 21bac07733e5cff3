"""peers: profiles, introductions, blocks, matching rounds; usernames

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('match_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ran_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('taking_part', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('trios', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['started_by_id'], ['person.id'], name=op.f('fk_match_round_started_by_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_round')),
    sa.UniqueConstraint('scheduled_at', name=op.f('uq_match_round_scheduled_at'))
    )
    with op.batch_alter_table('match_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_round_started_by_id'), ['started_by_id'], unique=False)

    op.create_table('peer_block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blocked_id'], ['person.id'], name=op.f('fk_peer_block_blocked_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['person.id'], name=op.f('fk_peer_block_blocker_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_block')),
    sa.UniqueConstraint('blocker_id', 'blocked_id', name=op.f('uq_peer_block_blocker_id'))
    )
    with op.batch_alter_table('peer_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_block_blocked_id'), ['blocked_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_peer_block_blocker_id'), ['blocker_id'], unique=False)

    op.create_table('profile',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('job_title', sa.String(length=200), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('introductions', sa.Boolean(), nullable=False),
    sa.Column('matching', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_profile_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_profile'))
    )
    op.create_table('introduction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('match_group', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_told_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('relayed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['person.id'], name=op.f('fk_introduction_recipient_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requester_id'], ['person.id'], name=op.f('fk_introduction_requester_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['match_round.id'], name=op.f('fk_introduction_round_id_match_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_introduction'))
    )
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_introduction_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introduction_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introduction_round_id'), ['round_id'], unique=False)
        batch_op.create_index('ix_introduction_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('match_skip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_match_skip_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['match_round.id'], name=op.f('fk_match_skip_round_id_match_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_skip')),
    sa.UniqueConstraint('round_id', 'person_id', name=op.f('uq_match_skip_round_id'))
    )
    with op.batch_alter_table('match_skip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_skip_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_skip_round_id'), ['round_id'], unique=False)

    with op.batch_alter_table('platform_identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('platform_identity', schema=None) as batch_op:
        batch_op.drop_column('username')

    with op.batch_alter_table('match_skip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_skip_round_id'))
        batch_op.drop_index(batch_op.f('ix_match_skip_person_id'))

    op.drop_table('match_skip')
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        batch_op.drop_index('ix_introduction_status_expires_at')
        batch_op.drop_index(batch_op.f('ix_introduction_round_id'))
        batch_op.drop_index(batch_op.f('ix_introduction_requester_id'))
        batch_op.drop_index(batch_op.f('ix_introduction_recipient_id'))

    op.drop_table('introduction')
    op.drop_table('profile')
    with op.batch_alter_table('peer_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_block_blocker_id'))
        batch_op.drop_index(batch_op.f('ix_peer_block_blocked_id'))

    op.drop_table('peer_block')
    with op.batch_alter_table('match_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_round_started_by_id'))

    op.drop_table('match_round')
