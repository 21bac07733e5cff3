"""seen events: platform event ids handled once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seen_event',
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'event_id', name=op.f('pk_seen_event'))
    )
    with op.batch_alter_table('seen_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_event_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seen_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_event_seen_at'))

    op.drop_table('seen_event')
