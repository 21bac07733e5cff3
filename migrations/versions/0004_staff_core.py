"""staff core: staff are people (announcements and answers record the person), outbox threads and edits

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _owners_to_chats() -> None:
    """Reports used to name a Slack thread ("slack:<channel>:<ts>"); now the chat ("slack:<channel>")."""
    bind = op.get_bind()
    batches = bind.execute(sa.text("SELECT id, owner FROM delivery_batch WHERE owner LIKE 'slack:%:%'")).all()
    for batch_id, owner in batches:
        channel = owner.split(":")[1]
        bind.execute(sa.text("UPDATE delivery_batch SET owner = :owner WHERE id = :id"),
                     {"owner": f"slack:{channel}", "id": batch_id})
    rows = bind.execute(sa.text("SELECT id, staff_channel FROM announcement WHERE staff_channel IS NOT NULL")).all()
    for announcement_id, channel in rows:
        bind.execute(sa.text("UPDATE announcement SET report_to = :to WHERE id = :id"),
                     {"to": f"slack:{channel}", "id": announcement_id})


def upgrade() -> None:
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_to', sa.String(length=200), nullable=True))
    _owners_to_chats()
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('queue_taken_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_announcement_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_announcement_created_by_id_person'), 'person', ['created_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('staff_channel')
        batch_op.drop_column('summary_posted_at')
        batch_op.drop_column('report_ts')
        batch_op.drop_column('staff_ts')
        batch_op.drop_column('created_by')

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('replace_key', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_delivery_replace_key'), ['replace_key'], unique=False)

    with op.batch_alter_table('delivery_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_key', sa.String(length=200), nullable=True))

    with op.batch_alter_table('knowledge_suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_knowledge_suggestion_suggested_by_id'), ['suggested_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_knowledge_suggestion_suggested_by_id_person'), 'person', ['suggested_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('suggested_by')

    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_question_answered_by_id'), ['answered_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_question_answered_by_id_person'), 'person', ['answered_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('answered_by')



def downgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_by', sa.VARCHAR(length=100), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_question_answered_by_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_question_answered_by_id'))
        batch_op.drop_column('answered_by_id')

    with op.batch_alter_table('knowledge_suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested_by', sa.VARCHAR(length=100), nullable=False, server_default=''))
        batch_op.drop_constraint(batch_op.f('fk_knowledge_suggestion_suggested_by_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_knowledge_suggestion_suggested_by_id'))
        batch_op.drop_column('suggested_by_id')

    with op.batch_alter_table('delivery_batch', schema=None) as batch_op:
        batch_op.drop_column('thread_key')

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_replace_key'))
        batch_op.drop_column('replace_key')
        batch_op.drop_column('thread_key')

    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.VARCHAR(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('staff_ts', sa.VARCHAR(length=50), nullable=True))
        batch_op.add_column(sa.Column('report_ts', sa.VARCHAR(length=50), nullable=True))
        batch_op.add_column(sa.Column('summary_posted_at', sa.DATETIME(), nullable=True))
        batch_op.add_column(sa.Column('staff_channel', sa.VARCHAR(length=50), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_announcement_created_by_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_announcement_created_by_id'))
        batch_op.drop_column('report_to')
        batch_op.drop_column('queue_taken_at')
        batch_op.drop_column('created_by_id')

