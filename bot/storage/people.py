"""People, their platform identities and roles, and the cities (member authorities) they belong to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.base import Base


class Role(StrEnum):
    GUEST = "guest"
    APPLICANT = "applicant"
    FOCAL_POINT = "focal_point"
    STAFF = "staff"


class CityLevel(StrEnum):
    CAPITAL = "capital"
    CITY = "city"
    MUNICIPALITY = "municipality"
    COUNTY = "county"
    PROVINCE = "province"
    REGION = "region"
    OTHER = "other"


class CityStatus(StrEnum):
    MEMBER = "member"
    FORMER = "former"


class City(Base):
    """A member authority of the network (any sub-national level: "cities" is the broad term)."""

    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100), default="")  # ISO 3166 alpha-2 code
    level: Mapped[str] = mapped_column(String(20), default=CityLevel.CITY.value)
    region: Mapped[str] = mapped_column(String(50), default="")  # the network's region (content/regions.yaml)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    member_since: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default=CityStatus.MEMBER.value)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("name", "country"),)


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.GUEST.value)
    language: Mapped[str | None] = mapped_column(String(8))
    language_explicit: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    reminders: Mapped[str] = mapped_column(String(10), default="all")  # all | going | none
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    identities: Mapped[list[PlatformIdentity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="raise"
    )


class PlatformIdentity(Base):
    """One person, one row per platform they reach us on (Telegram user id, Slack user id, console name)."""

    __tablename__ = "platform_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    username: Mapped[str | None] = mapped_column(String(64))  # a public handle (Telegram @username)
    unreachable_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="identities", lazy="raise")

    __table_args__ = (UniqueConstraint("platform", "external_id"),)
