"""A demo network, so that every flow can be tried at once on the embedded default.

`python run_bot.py demo seed` (and `make run` with no tokens and no database setting) fills the demo
SQLite database (`<BOT_DATA_DIR>/demo/demo.sqlite3`) with member cities across the hubs, focal points
who agreed to be listed and introduced, an upcoming event with reminders, an application waiting for
staff, and the console's own people: `demo`, a verified focal point of Cape Town, and `staff`.
Seeding again changes nothing that is there (people, cities and profiles are found by name), and
adds an upcoming event when the last demo event has passed. It never runs on a database the user
configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox
from bot.domain import audience, events, profiles
from bot.domain.staff import Destination
from bot.i18n import Catalogs
from bot.storage.events import Event, EventStatus
from bot.storage.membership import ApplicationStatus, MembershipApplication
from bot.storage.people import City, CityLevel, Person, PlatformIdentity, Role

PLATFORM = "console"
DEMO_PERSON = "demo"
DEMO_STAFF = "staff"
EVENT_UID = "demo-{date}@strongcitiesnetwork.org"


@dataclass(frozen=True, slots=True)
class DemoCity:
    name: str
    country: str
    region: str
    time_zone: str
    level: str = CityLevel.CITY.value


@dataclass(frozen=True, slots=True)
class DemoPeer:
    handle: str  # the console name that speaks as them
    name: str
    language: str
    city: DemoCity
    role: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]


MOMBASA = DemoCity("Mombasa County", "KE", "Africa", "Africa/Nairobi", CityLevel.COUNTY.value)
SAIDA = DemoCity("Saida", "LB", "MENA", "Asia/Beirut")
TIRANA = DemoCity("Tirana", "AL", "Western Balkans", "Europe/Tirane", CityLevel.CAPITAL.value)
PESHAWAR = DemoCity("Peshawar", "PK", "South Asia", "Asia/Karachi")
MONTREAL = DemoCity("Montréal", "CA", "North America", "America/Toronto")
MEDELLIN = DemoCity("Medellín", "CO", "Latin America", "America/Bogota")
CAPE_TOWN = DemoCity("Cape Town", "ZA", "Africa", "Africa/Johannesburg")

PEERS = (
    DemoPeer("amina", "Amina Yusuf", "en", MOMBASA, "Head of social cohesion", ("en", "sw"),
             ("youth_engagement", "online_hate", "gender")),
    DemoPeer("rania", "Rania Haddad", "ar", SAIDA, "Focal point, municipal council", ("ar", "fr", "en"),
             ("community_cohesion", "crisis_response", "youth_engagement")),
    DemoPeer("besa", "Besa Hoxha", "sq", TIRANA, "Prevention officer", ("sq", "en"),
             ("online_hate", "schools", "prevention_networks")),
    DemoPeer("imran", "Imran Khattak", "ur", PESHAWAR, "Deputy commissioner's office", ("ur", "en"),
             ("interfaith", "youth_engagement", "disinformation")),
    DemoPeer("claire", "Claire Tremblay", "fr", MONTREAL, "Conseillère en prévention", ("fr", "en"),
             ("polarisation", "disinformation", "online_hate")),
    DemoPeer("lucia", "Lucía Gómez", "es", MEDELLIN, "Secretaría de Seguridad", ("es", "en"),
             ("reintegration", "victim_support", "sport_culture")),
)  # fmt: skip
ME = DemoPeer(DEMO_PERSON, "Demo Focal Point", "en", CAPE_TOWN, "Focal point", ("en",),
              ("youth_engagement", "online_hate"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Seeded:
    cities: int
    people: int
    event: int | None  # the upcoming demo event
    application: int | None


async def _city(session: AsyncSession, city: DemoCity, now: datetime) -> City:
    found = await session.scalar(select(City).where(City.name == city.name, City.country == city.country))
    if found is None:
        found = City(
            name=city.name,
            country=city.country,
            region=city.region,
            time_zone=city.time_zone,
            level=city.level,
            member_since=2016,
            created_at=now,
        )
        session.add(found)
        await session.flush()
    return found


async def _person(
    session: AsyncSession, handle: str, name: str, role: str, language: str, now: datetime
) -> Person:
    found = await session.scalar(
        select(Person)
        .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
        .where(PlatformIdentity.platform == PLATFORM, PlatformIdentity.external_id == handle)
    )
    if found is not None:
        return found
    person = Person(display_name=name, role=role, language=language, created_at=now, last_seen_at=now)
    person.identities.append(PlatformIdentity(platform=PLATFORM, external_id=handle, chat_id=handle))
    session.add(person)
    await session.flush()
    return person


async def _peer(session: AsyncSession, peer: DemoPeer, now: datetime) -> Person:
    city = await _city(session, peer.city, now)
    person = await _person(session, peer.handle, peer.name, Role.FOCAL_POINT.value, peer.language, now)
    if person.city_id is None:
        person.city_id = city.id
    if await profiles.profile_of(session, person.id) is None:
        await profiles.save(
            session,
            person,
            profiles.ProfileValues(
                display_name=peer.name,
                job_title=peer.role,
                languages=peer.languages,
                topics=peer.topics,
                listed=True,
                introductions=True,
                matching=peer.handle != DEMO_PERSON,
            ),
            now,
        )
    return person


async def _event(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, staff: Person, now: datetime
) -> int:
    """The next demo event, four days from now at 15:00 in Nairobi, created and published when none is
    still to come."""
    upcoming = await session.scalar(
        select(Event.id).where(
            Event.uid.like("demo-%"), Event.status == EventStatus.PUBLISHED.value, Event.starts_at > now
        )
    )
    if upcoming is not None:
        return int(upcoming)
    day = (now.astimezone(ZoneInfo("Africa/Nairobi")) + timedelta(days=4)).date()
    data = events.EventData(
        title="Regional exchange: young people and online hate",
        description=(
            "Focal points from Africa, MENA and the Western Balkans share what works when young people "
            "lead the response to hate online. Questions welcome."
        ),
        local_start=f"{day.isoformat()} 15:00",
        time_zone="Africa/Nairobi",
        duration_minutes=90,
        location="https://strongcitiesnetwork.org/ (online)",
        audience=audience.Audience.parse("all"),
        reminder_minutes=[24 * 60, 60],
        versions={
            "fr": {"title": "Échange régional : les jeunes face à la haine en ligne"},
            "ar": {"title": "تبادل إقليمي: الشباب في مواجهة الكراهية على الإنترنت"},
            "es": {"title": "Intercambio regional: jóvenes frente al odio en línea"},
        },
    )
    draft = await events.save_draft(session, staff, data, now)
    draft.uid = EVENT_UID.format(date=day.isoformat())
    await session.flush()
    place = Destination(PLATFORM, DEMO_STAFF, catalogs.default_language)
    published = await events.publish(session, outbox, catalogs, staff, draft.id, now, place)
    return published.id if published is not None else draft.id


async def _application(session: AsyncSession, now: datetime) -> int:
    """An application waiting for staff: Sousse, Tunisia, sent by the guest `karim`."""
    karim = await _person(session, "karim", "Karim Ben Ali", Role.APPLICANT.value, "fr", now)
    found = await session.scalar(
        select(MembershipApplication.id).where(MembershipApplication.person_id == karim.id)
    )
    if found is not None:
        return int(found)
    application = MembershipApplication(
        person_id=karim.id,
        authority="Municipalité de Sousse",
        country="TN",
        level=CityLevel.MUNICIPALITY.value,
        population=271000,
        applicant_name="Karim Ben Ali",
        applicant_role="Chargé de la cohésion sociale",
        email="k.benali@commune-sousse.example",
        motivation="Nous voulons apprendre des autres villes sur la prévention avec les jeunes.",
        heard_from="A regional hub event",
        language="fr",
        status=ApplicationStatus.PENDING.value,
        created_at=now,
        submitted_at=now,
    )
    session.add(application)
    await session.flush()
    return application.id


async def seed(session: AsyncSession, outbox: Outbox, catalogs: Catalogs, now: datetime) -> Seeded:
    """Make the demo network (what is there already is kept)."""
    staff = await _person(session, DEMO_STAFF, "Sara (Management Unit)", Role.STAFF.value, "en", now)
    for peer in (*PEERS, ME):
        await _peer(session, peer, now)
    event_id = await _event(session, outbox, catalogs, staff, now)
    application_id = await _application(session, now)
    cities = len((await session.scalars(select(City.id))).all())
    people = len((await session.scalars(select(Person.id))).all())
    return Seeded(cities, people, event_id, application_id)
