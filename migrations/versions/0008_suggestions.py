"""suggestions: staff decide an example question, a topic draft, or nothing

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('knowledge_suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic_id', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('example_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_knowledge_suggestion_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_knowledge_suggestion_decided_by_id_person'), 'person', ['decided_by_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('knowledge_suggestion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_knowledge_suggestion_decided_by_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_knowledge_suggestion_decided_by_id'))
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('draft')
        batch_op.drop_column('example_text')
        batch_op.drop_column('topic_id')

