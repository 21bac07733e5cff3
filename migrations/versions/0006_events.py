"""events: events, invitees and their RSVPs; a person's reminder preference

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('local_start', sa.String(length=16), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('audience_kind', sa.String(length=20), nullable=False),
    sa.Column('audience_value', sa.String(length=200), nullable=False),
    sa.Column('reminder_minutes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_to', sa.String(length=200), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('queue_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['delivery_batch.id'], name=op.f('fk_event_batch_id_delivery_batch'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_event_created_by_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('uid', name=op.f('uq_event_uid'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_event_status_starts_at', ['status', 'starts_at'], unique=False)

    op.create_table('event_invitee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rsvp', sa.String(length=20), nullable=True),
    sa.Column('rsvp_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_invitee_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_event_invitee_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_invitee')),
    sa.UniqueConstraint('event_id', 'person_id', name=op.f('uq_event_invitee_event_id'))
    )
    with op.batch_alter_table('event_invitee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_invitee_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_invitee_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders', sa.String(length=10), nullable=False, server_default='all'))



def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('reminders')

    with op.batch_alter_table('event_invitee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_invitee_person_id'))
        batch_op.drop_index(batch_op.f('ix_event_invitee_event_id'))

    op.drop_table('event_invitee')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_status_starts_at')
        batch_op.drop_index(batch_op.f('ix_event_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_event_batch_id'))

    op.drop_table('event')
