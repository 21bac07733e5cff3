"""Becoming a focal point: applications to join the network, and invitations from staff.

An application moves draft -> pending (submitted: the applicant's role is applicant) -> approved,
declined, or info_requested (staff asked for more; the applicant edits and submits again), or is
withdrawn. An invitation is a single-use token for one city, valid for a week, that staff can revoke;
only its hash is stored, so the database never holds a usable link.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_APPLICATION = (ApplicationStatus.PENDING.value, ApplicationStatus.INFO_REQUESTED.value)


class MembershipApplication(Base):
    __tablename__ = "membership_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    authority: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    level: Mapped[str] = mapped_column(String(20))
    population: Mapped[int | None]
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_role: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    motivation: Mapped[str] = mapped_column(Text)
    heard_from: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT.value)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    staff_comment: Mapped[str] = mapped_column(Text, default="")
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id", ondelete="SET NULL"), index=True)

    __table_args__ = (Index("ix_membership_application_status", "status"),)


class Invitation(Base):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), index=True)
    expected_name: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
