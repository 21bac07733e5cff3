"""membership: the member registry (level, member since, status; countries as ISO codes), applications, invitations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _countries_to_codes() -> None:
    """Cities typed before the registry named their country in words; the registry keeps ISO codes."""
    from babel import Locale

    by_name = {name.lower(): code for code, name in Locale.parse("en").territories.items() if len(code) == 2}
    bind = op.get_bind()
    for city_id, country in bind.execute(sa.text("SELECT id, country FROM city")).all():
        code = by_name.get((country or "").strip().lower())
        if code is not None:
            bind.execute(sa.text("UPDATE city SET country = :code WHERE id = :id"), {"code": code, "id": city_id})


def upgrade() -> None:
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('expected_name', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], name=op.f('fk_invitation_city_id_city'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_invitation_created_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['person.id'], name=op.f('fk_invitation_revoked_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['used_by_id'], ['person.id'], name=op.f('fk_invitation_used_by_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_revoked_by_id'), ['revoked_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_used_by_id'), ['used_by_id'], unique=False)

    op.create_table('membership_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('applicant_name', sa.String(length=200), nullable=False),
    sa.Column('applicant_role', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('heard_from', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('staff_comment', sa.Text(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], name=op.f('fk_membership_application_city_id_city'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_membership_application_decided_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_membership_application_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_application'))
    )
    with op.batch_alter_table('membership_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_application_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_application_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_application_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_membership_application_status', ['status'], unique=False)

    with op.batch_alter_table('city', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=20), nullable=False, server_default='city'))
        batch_op.add_column(sa.Column('member_since', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='member'))
    _countries_to_codes()


def downgrade() -> None:
    with op.batch_alter_table('city', schema=None) as batch_op:
        batch_op.drop_column('status')
        batch_op.drop_column('member_since')
        batch_op.drop_column('level')

    with op.batch_alter_table('membership_application', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_application_status')
        batch_op.drop_index(batch_op.f('ix_membership_application_person_id'))
        batch_op.drop_index(batch_op.f('ix_membership_application_decided_by_id'))
        batch_op.drop_index(batch_op.f('ix_membership_application_city_id'))

    op.drop_table('membership_application')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_used_by_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_revoked_by_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_city_id'))

    op.drop_table('invitation')
