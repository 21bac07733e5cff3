"""How a person becomes a focal point: an application reviewed by staff, or an invitation from staff.

Applying: the form is kept as a draft when submitted (so the summary can be checked), then sent to
staff (the applicant's role becomes applicant). Staff approve (the city is created, or reactivated, and
the applicant becomes its verified focal point), ask for more information, or decline; the applicant
is told in their language. A card for staff is posted where staff work and edited once decided.

Invitations: staff make a single-use link for one city, valid `INVITATION_DAYS`; opening it makes the
person a verified focal point of that city. Redeeming is one conditional update, so of two people
opening the same link at once only one becomes the focal point.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Refused
from bot.countries import country_name
from bot.delivery.outbox import Outbox
from bot.domain import cities, privacy
from bot.domain.people import Permission, name_of, reachable_identity, require
from bot.domain.staff import notice_destinations
from bot.i18n import N_, Catalogs
from bot.markup import plain_to_html
from bot.messages import Button, Markup, Reply
from bot.regions import Regions
from bot.storage.delivery import Delivery, Priority
from bot.storage.membership import OPEN_APPLICATION, ApplicationStatus, Invitation, MembershipApplication
from bot.storage.people import City, CityStatus, Person, Role

INVITATION_DAYS = 7
ALREADY_FOCAL_POINT = N_(
    "You are already the focal point of a member city, so there is nothing to apply for. Send /help to see "
    "what you can do."
)
ALREADY_APPLIED = N_("You already have an application being reviewed. Send /status to see it.")
APPROVED = N_(
    "Good news: your application for {authority} has been approved. Welcome to the Strong Cities Network! "
    "You are now its focal point. Send /help to see what you can do."
)
DECLINED = N_("Your application for {authority} was not accepted. The Management Unit wrote: {comment}")
INFO_REQUESTED = N_(
    "The Management Unit needs more information about your application for {authority}: {comment}\n"
    "Send /status to edit your application and send it again."
)
CARD_TITLE = N_("Application #{id}: {authority}, {country}")
CARD_DECIDED = N_("Application #{id}: {authority}, {country}: {decision} by {staff}.")
CARD_WITHDRAWN = N_("Application #{id}: {authority}, {country}: withdrawn by the applicant.")
CARD_LINE = N_("{label}: {value}")
FLAG_MEMBER = N_("Already a member: {city} has {count} focal point(s).")
FLAG_PENDING = N_("Another application for this city is open: #{other}.")
APPROVE = N_("Approve")
REQUEST_INFO = N_("Request information")
DECLINE = N_("Decline")
DECISIONS = {
    ApplicationStatus.APPROVED.value: N_("approved"),
    ApplicationStatus.DECLINED.value: N_("declined"),
    ApplicationStatus.INFO_REQUESTED.value: N_("more information requested"),
}
FIELD_LABELS = (
    ("applicant_name", N_("Name")),
    ("applicant_role", N_("Role")),
    ("email", N_("Email")),
    ("level", N_("Level")),
    ("population", N_("Population")),
    ("motivation", N_("Motivation")),
    ("heard_from", N_("Heard of the network from")),
)


@dataclass(frozen=True, slots=True)
class ApplicationData:
    authority: str
    country: str
    level: str
    population: int | None
    applicant_name: str
    applicant_role: str
    email: str
    motivation: str
    heard_from: str


class InvitationProblem(Refused):
    """An invitation that cannot be used: unknown, used, expired or revoked (a msgid)."""


INVALID_LINK = N_("That link is not valid or has expired. Ask the Management Unit for a new invitation.")
LINK_USED = N_("That invitation has already been used. Ask the Management Unit for a new one if you need it.")
STAFF_CANNOT_JOIN = N_("Staff cannot become focal points through an invitation.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def open_application(session: AsyncSession, person: Person) -> MembershipApplication | None:
    """The person's application being reviewed (pending, or waiting for more information)."""
    return await session.scalar(
        select(MembershipApplication)
        .where(
            MembershipApplication.person_id == person.id, MembershipApplication.status.in_(OPEN_APPLICATION)
        )
        .order_by(MembershipApplication.id.desc())
    )


async def applications_of(session: AsyncSession, person: Person) -> list[MembershipApplication]:
    rows = await session.scalars(
        select(MembershipApplication)
        .where(MembershipApplication.person_id == person.id, MembershipApplication.status != "draft")
        .order_by(MembershipApplication.id.desc())
    )
    return list(rows.all())


def may_apply(person: Person) -> str | None:
    """Why this person cannot apply (a msgid), or None."""
    if person.role == Role.FOCAL_POINT.value and person.city_id is not None:
        return ALREADY_FOCAL_POINT
    require(person, Permission.APPLY)
    return None


async def save_draft(
    session: AsyncSession,
    person: Person,
    data: ApplicationData,
    language: str,
    now: datetime,
    editing: MembershipApplication | None = None,
) -> MembershipApplication:
    """Keep the checked form as a draft (or update the application being edited)."""
    problem = may_apply(person)
    if problem is not None:
        raise Refused(problem, Permission.APPLY.value)
    application = editing or MembershipApplication(person_id=person.id, created_at=now)
    for field in dataclasses.fields(data):
        setattr(application, field.name, getattr(data, field.name))
    application.language = language
    if editing is None:
        application.status = ApplicationStatus.DRAFT.value
        session.add(application)
    await session.flush()
    return application


CardButtons = Callable[[MembershipApplication, str], tuple[Button, ...]]  # (application, language)


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    person: Person,
    application: MembershipApplication,
    now: datetime,
    staff_channels: Mapping[str, str],
    buttons: CardButtons,
) -> bool:
    """Send a draft (or an application staff asked more about) for review; False if not the person's."""
    if application.person_id != person.id or application.status not in (
        ApplicationStatus.DRAFT.value,
        ApplicationStatus.INFO_REQUESTED.value,
    ):
        return False
    other = await open_application(session, person)
    if other is not None and other.id != application.id:
        raise Refused(ALREADY_APPLIED, Permission.APPLY.value)
    application.status = ApplicationStatus.PENDING.value
    application.submitted_at = now
    if person.role == Role.GUEST.value:
        person.role = Role.APPLICANT.value
    await session.flush()
    await post_card(session, outbox, catalogs, application, staff_channels, buttons)
    return True


async def withdraw(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    person: Person,
    application: MembershipApplication,
    now: datetime,
) -> bool:
    """The applicant takes the application back; the cards staff see say so."""
    if application.person_id != person.id or application.status not in OPEN_APPLICATION:
        return False
    application.status = ApplicationStatus.WITHDRAWN.value
    application.decided_at = now
    await _edit_cards(session, outbox, catalogs, application, None)
    await _back_to_guest(session, person)
    return True


async def _back_to_guest(session: AsyncSession, person: Person) -> None:
    if person.role == Role.APPLICANT.value and await open_application(session, person) is None:
        person.role = Role.GUEST.value


async def flags(
    session: AsyncSession, application: MembershipApplication, language: str, catalogs: Catalogs
) -> list[str]:
    """What staff should know: the city is already a member, or another application for it is open."""
    t = catalogs.translator(language)
    found: list[str] = []
    city = await cities.find(session, application.authority, application.country)
    if city is not None and city.status == CityStatus.MEMBER.value:
        count = len(
            (
                await session.scalars(
                    select(Person.id).where(Person.city_id == city.id, Person.role == Role.FOCAL_POINT.value)
                )
            ).all()
        )
        found.append(t.gettext(FLAG_MEMBER, city=cities.label(city, language), count=count))
    others = (
        await session.scalars(
            select(MembershipApplication.id).where(
                MembershipApplication.id != application.id,
                MembershipApplication.status.in_(OPEN_APPLICATION),
                MembershipApplication.country == application.country,
            )
        )
    ).all()
    for other_id in others:
        other = await session.get(MembershipApplication, other_id)
        if other is not None and _same_city(other.authority, application.authority):
            found.append(t.gettext(FLAG_PENDING, other=other.id))
    return found


def _same_city(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def card_key(application_id: int, platform: str, chat: str) -> str:
    return f"application:{application_id}:card:{platform}:{chat}"


async def card_text(
    session: AsyncSession, application: MembershipApplication, language: str, catalogs: Catalogs
) -> str:
    t = catalogs.translator(language)
    country = country_name(application.country, language)
    title = t.gettext(CARD_TITLE, id=application.id, authority=application.authority, country=country)
    lines = [f"<b>{plain_to_html(title)}</b>"]
    for field, label in FIELD_LABELS:
        value = getattr(application, field)
        if value in (None, ""):
            continue
        if field == "level":
            value = t.gettext(cities.LEVEL_LABELS.get(value, value))
        elif field == "population":
            value = t.number(value)
        lines.append(plain_to_html(t.gettext(CARD_LINE, label=t.gettext(label), value=str(value))))
    for flag in await flags(session, application, language, catalogs):
        lines.append(f"⚠ {plain_to_html(flag)}")
    return "\n".join(lines)


async def post_card(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    application: MembershipApplication,
    staff_channels: Mapping[str, str],
    buttons: CardButtons,
) -> None:
    """The application for staff to review, with the review buttons, wherever staff work. A card posted
    before (an application sent again after staff asked for more) is edited rather than repeated."""
    for place in await notice_destinations(session, staff_channels, catalogs.default_language):
        key = card_key(application.id, place.platform, place.chat)
        text = await card_text(session, application, place.language, catalogs)
        reply = Reply(text, buttons=buttons(application, place.language), markup=Markup.HTML)
        round_ = application.submitted_at.isoformat() if application.submitted_at else "draft"
        first = await session.scalar(select(Delivery.id).where(Delivery.key == key))
        await outbox.enqueue(
            session,
            key=key if first is None else f"{key}:{round_}",
            platform=place.platform,
            recipient=place.chat,
            reply=reply,
            priority=Priority.URGENT,
            replace_key=key if first is not None else None,
        )


async def _edit_cards(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    application: MembershipApplication,
    staff: Person | None,
) -> None:
    """Show the decision on every card of the application (no buttons any more); `staff` None: the
    applicant withdrew it."""
    keys = (
        await session.scalars(
            select(Delivery.key).where(
                Delivery.key.like(f"application:{application.id}:card:%"), Delivery.replace_key.is_(None)
            )
        )
    ).all()
    for key in keys:
        row = await session.scalar(select(Delivery).where(Delivery.key == key))
        assert row is not None
        language = catalogs.default_language
        t = catalogs.translator(language)
        country = country_name(application.country, language)
        if staff is None:
            text = t.gettext(
                CARD_WITHDRAWN, id=application.id, authority=application.authority, country=country
            )
        else:
            decision = t.gettext(DECISIONS.get(application.status, application.status))
            text = t.gettext(
                CARD_DECIDED,
                id=application.id,
                authority=application.authority,
                country=country,
                decision=decision,
                staff=name_of(staff),
            )
        if application.staff_comment:
            text += f"\n{application.staff_comment}"
        await outbox.enqueue(
            session,
            key=f"{key}:{application.status}:{application.decided_at}",
            platform=row.platform,
            recipient=row.recipient,
            reply=Reply(text),
            replace_key=key,
            priority=Priority.URGENT,
        )


async def _tell_applicant(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    application: MembershipApplication,
    message: str,
    **params: object,
) -> None:
    """The outcome, in the language the application was written in, on the platform they use."""
    identity = await reachable_identity(session, application.person_id)
    if identity is None:
        return
    t = catalogs.translator(application.language)
    await outbox.enqueue(
        session,
        key=f"application:{application.id}:outcome:{application.status}:{application.decided_at}",
        platform=identity.platform,
        recipient=identity.chat_id,
        reply=Reply(t.gettext(message, **params)),
        priority=Priority.URGENT,
    )


async def approve(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    staff: Person,
    application: MembershipApplication,
    regions: Regions,
    now: datetime,
    time_zone: str = "",
) -> City:
    """Create (or reactivate) the city and make the applicant its verified focal point."""
    require(staff, Permission.REVIEW_APPLICATIONS)
    if application.status not in OPEN_APPLICATION:
        raise Refused(ALREADY_DECIDED, Permission.REVIEW_APPLICATIONS.value)
    city = await cities.find(session, application.authority, application.country)
    if city is None:
        data = cities.check(
            cities.CityData(
                application.authority, application.country, application.level, "", time_zone, now.year
            ),
            regions,
            now.year,
        )
        city, _ = await cities.save(session, data, now)
    elif city.status != CityStatus.MEMBER.value:
        city.status = CityStatus.MEMBER.value
    applicant = await session.get(Person, application.person_id)
    if applicant is not None:
        applicant.role = Role.FOCAL_POINT.value
        applicant.city_id = city.id
        if not applicant.display_name:
            applicant.display_name = application.applicant_name
    application.status = ApplicationStatus.APPROVED.value
    application.decided_at, application.decided_by_id, application.city_id = now, staff.id, city.id
    await _edit_cards(session, outbox, catalogs, application, staff)
    await _tell_applicant(session, outbox, catalogs, application, APPROVED, authority=application.authority)
    return city


ALREADY_DECIDED = N_("That application has already been decided.")


async def decide(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    staff: Person,
    application: MembershipApplication,
    status: ApplicationStatus,
    comment: str,
    now: datetime,
) -> None:
    """Decline, or ask the applicant for more information, with a comment they will read."""
    require(staff, Permission.REVIEW_APPLICATIONS)
    if application.status not in OPEN_APPLICATION:
        raise Refused(ALREADY_DECIDED, Permission.REVIEW_APPLICATIONS.value)
    application.status = status.value
    application.staff_comment = comment
    application.decided_at, application.decided_by_id = now, staff.id
    await _edit_cards(session, outbox, catalogs, application, staff)
    message = DECLINED if status is ApplicationStatus.DECLINED else INFO_REQUESTED
    await _tell_applicant(
        session, outbox, catalogs, application, message, authority=application.authority, comment=comment
    )
    if status is ApplicationStatus.DECLINED:
        applicant = await session.get(Person, application.person_id)
        if applicant is not None:
            await _back_to_guest(session, applicant)


async def pending(session: AsyncSession, limit: int = 50) -> list[MembershipApplication]:
    rows = await session.scalars(
        select(MembershipApplication)
        .where(MembershipApplication.status == ApplicationStatus.PENDING.value)
        .order_by(MembershipApplication.submitted_at, MembershipApplication.id)
        .limit(limit)
    )
    return list(rows.all())


# ---- invitations ---------------------------------------------------------------------------------------
async def invite(
    session: AsyncSession, staff: Person, city: City, now: datetime, expected_name: str = ""
) -> tuple[Invitation, str]:
    """A new single-use invitation for `city`; returns it and the token (shown once, stored hashed)."""
    require(staff, Permission.INVITE)
    token = secrets.token_urlsafe(18)
    invitation = Invitation(
        token_hash=_hash(token),
        city_id=city.id,
        expected_name=expected_name.strip()[:200],
        created_by_id=staff.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    await session.flush()
    return invitation, token


async def redeem(session: AsyncSession, person: Person, token: str, now: datetime) -> City:
    """Make `person` the verified focal point of the invitation's city; `InvitationProblem` otherwise."""
    if person.role == Role.STAFF.value:
        raise InvitationProblem(STAFF_CANNOT_JOIN)
    used = await session.execute(
        update(Invitation)
        .where(
            Invitation.token_hash == _hash(token.strip()),
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now, used_by_id=person.id)
        .returning(Invitation.id, Invitation.city_id)
        .execution_options(synchronize_session=False)
    )
    row = used.first()
    if row is None:
        known = await session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token.strip())))
        if known is not None and known.used_at is not None and known.used_by_id == person.id:
            city = await session.get(City, known.city_id)
            if city is not None and person.city_id == city.id:
                return city  # opened twice by the same person: nothing changes
        raise InvitationProblem(
            LINK_USED if known is not None and known.used_at is not None else INVALID_LINK
        )
    city = await session.get(City, row.city_id)
    assert city is not None
    if city.status != CityStatus.MEMBER.value:
        city.status = CityStatus.MEMBER.value
    person.role = Role.FOCAL_POINT.value
    person.city_id = city.id
    return city


async def revoke(session: AsyncSession, staff: Person, invitation: Invitation, now: datetime) -> bool:
    require(staff, Permission.INVITE)
    if invitation.used_at is not None or invitation.revoked_at is not None:
        return False
    invitation.revoked_at, invitation.revoked_by_id = now, staff.id
    return True


async def open_invitations(
    session: AsyncSession, now: datetime, limit: int = 50
) -> list[tuple[Invitation, City]]:
    rows = await session.execute(
        select(Invitation, City)
        .join(City, City.id == Invitation.city_id)
        .where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc())
        .limit(limit)
    )
    return [(invitation, city) for invitation, city in rows.all()]


# ---- people: roles and cities, changed by staff ----------------------------------------------------------
async def change_role(
    session: AsyncSession, staff: Person, person: Person, role: Role, city: City | None
) -> None:
    """Staff make someone a guest, a focal point (of `city`) or staff; audited by the caller."""
    require(staff, Permission.MANAGE_PEOPLE)
    if role is Role.FOCAL_POINT and city is None and person.city_id is None:
        raise ValueError("a focal point needs a city")
    person.role = role.value
    if role is Role.FOCAL_POINT and city is not None:
        person.city_id = city.id
    if role in (Role.GUEST, Role.STAFF):
        person.city_id = None


async def detach(session: AsyncSession, staff: Person, person: Person) -> None:
    """A focal point leaves their city: they become a guest."""
    require(staff, Permission.MANAGE_PEOPLE)
    person.city_id = None
    if person.role == Role.FOCAL_POINT.value:
        person.role = Role.GUEST.value


# ---- privacy -------------------------------------------------------------------------------------------
async def _export_applications(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = await session.scalars(
        select(MembershipApplication)
        .where(MembershipApplication.person_id == person.id)
        .order_by(MembershipApplication.id)
    )
    return [
        {
            "authority": a.authority,
            "country": a.country,
            "level": a.level,
            "population": a.population,
            "name": a.applicant_name,
            "role": a.applicant_role,
            "email": a.email,
            "motivation": a.motivation,
            "heard_from": a.heard_from,
            "status": a.status,
            "staff_comment": a.staff_comment,
            "created_at": a.created_at.isoformat(),
        }
        for a in rows.all()
    ]


async def _erase_applications(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    """Their applications go, and the cards staff saw are scrubbed and edited to say they left."""
    ids = list(
        (
            await session.scalars(
                select(MembershipApplication.id).where(MembershipApplication.person_id == person.id)
            )
        ).all()
    )
    for application_id in ids:
        await privacy.scrub_staff_copies(
            session, erasure, f"application:{application_id}:card:", LEFT, id=application_id
        )
        await session.execute(
            update(MembershipApplication)
            .where(MembershipApplication.id == application_id)
            .values(applicant_name="", email="", motivation="", heard_from="", applicant_role="")
        )
    await session.execute(
        MembershipApplication.__table__.delete().where(MembershipApplication.person_id == person.id)  # type: ignore[attr-defined]
    )


LEFT = N_("Application #{id}: the applicant has left and their data was erased.")


async def _export_invitations(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = await session.scalars(select(Invitation).where(Invitation.used_by_id == person.id))
    return [
        {"city_id": i.city_id, "used_at": i.used_at.isoformat() if i.used_at else None} for i in rows.all()
    ]


privacy.register(
    "applications",
    covers=("membership_application.person_id",),
    export=_export_applications,
    erase=_erase_applications,
)
privacy.register(
    "invitations_used",
    covers=("invitation.used_by_id",),
    export=_export_invitations,
    erase=privacy.keeps_work("the invitation stays used; who used it is forgotten"),
)
privacy.register(
    "membership_work",
    covers=("membership_application.decided_by_id", "invitation.created_by_id", "invitation.revoked_by_id"),
    erase=privacy.keeps_work("decisions and invitations stay; the staff member who made them is forgotten"),
)
