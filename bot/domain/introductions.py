"""Introductions between focal points, double opt-in: asked, accepted (or not), then passed on.

- A request goes to the other person in their language: the requester's card, an optional note,
  Accept, Decline and Block. Nobody is asked who does not accept introductions, has blocked the
  requester, or is already asked; a person has at most `INTRODUCTIONS_MAX_OPEN` requests waiting.
- Accepting gives both sides each other's contact: the Telegram username where there is one, else
  the relay (`relay`): messages passed on through the bot, marked with the sender's name and city,
  until either side ends the introduction.
- A decline is never announced. Declined or not, a request ends `INTRODUCTIONS_EXPIRE_DAYS` after it
  was made, and only then is the requester told "no response".
- A block is silent: the blocked person is never told; their requests stop reaching the blocker (they
  are told, as for anyone who takes no requests, that the person is not taking them), an introduction
  between the two ends, and matching rounds never pair them.

Outbox keys name the introduction and the reader (`intro:<id>:p<person>:<what>`), so what a peer was
sent about someone who erases their data can be found and scrubbed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CallbackData
from bot.delivery.outbox import Outbox
from bot.domain import privacy, profiles
from bot.domain.people import reachable_identity
from bot.domain.problems import Problem
from bot.domain.profiles import Peer
from bot.i18n import N_, Catalogs, Translator
from bot.ids import record_id
from bot.messages import Button, Reply
from bot.storage.delivery import Delivery
from bot.storage.peers import OPEN_STATUSES, Block, Introduction, IntroductionStatus, Profile
from bot.storage.people import Person, PlatformIdentity, Role
from bot.taxonomy import Taxonomy

MAX_NOTE = 500
MAX_RELAYED = 3500
TELEGRAM = "telegram"

# Refusals (each a clear sentence for the person who asked).
TO_YOURSELF = N_("That is you: you cannot ask for an introduction to yourself.")
NOT_TAKING = N_("{name} is not taking introduction requests at the moment.")
NOT_A_PEER = N_("That focal point is no longer in the directory.")
ALREADY_ASKED = N_("You have already asked {name}; the request is waiting for an answer.")
THEY_ASKED = N_("{name} has already asked to be introduced to you: see /introductions to accept.")
ALREADY_INTRODUCED = N_("You are already introduced to {name}: see /introductions.")
TOO_MANY_OPEN = N_(
    "You already have {count} requests waiting for an answer, the most there can be. Withdraw one in "
    "/introductions, or wait until one is answered or expires."
)
YOU_BLOCKED = N_("You blocked {name}. Unblock them in /introductions first.")
GONE = N_("That introduction no longer exists.")
NOT_OPEN = N_("This request is no longer open.")
ENDED = N_("This introduction has ended: messages are no longer passed on.")
YOU_ENDED = N_("You ended the introduction with {name}: messages are no longer passed on.")
UNREACHABLE = N_("{name} cannot be reached through me at the moment, so nothing was passed on.")
LEFT_MESSAGE = N_("This message was about a focal point who has left the network's assistant.")

# What people read.
REQUEST = N_("{name} would like to be introduced to you.")
REQUEST_NOTE = N_("Their note: {note}")
REQUEST_HOW = N_(
    "If you accept, you both get each other's contact. If you decline, they are not told. The request "
    "is open until {date}."
)
ACCEPT = N_("Accept")
DECLINE = N_("Decline")
BLOCK = N_("Block")
ACCEPTED_BY = N_("{name} accepted your request: you are introduced.")
YOU_ACCEPTED = N_("You accepted: you are introduced to {name}.")
CONTACT_USERNAME = N_("Write to them on Telegram: @{username}")
CONTACT_RELAY = N_(
    "They have no public Telegram username, so write to them here: press “Write” and I will pass your "
    "message on, with your name and city."
)
WRITE = N_("Write to {name}")
END = N_("End the introduction")
NO_RESPONSE = N_(
    "Your request to be introduced to {name} had no response. You can ask someone else in /peers."
)
RELAYED = N_("{name} writes:")
ENDED_BY = N_("{name} ended the introduction: messages are no longer passed on.")


@dataclass(frozen=True)
class IntroButton(CallbackData, prefix="intro"):
    """An answer to a request, or an action on an introduction: accept | decline | block | withdraw |
    end | write."""

    action: str
    introduction: int


@dataclass(frozen=True, slots=True)
class Limits:
    expire_days: int = 14
    max_open: int = 5


def other_side(introduction: Introduction, person_id: int) -> int | None:
    return introduction.recipient_id if introduction.requester_id == person_id else introduction.requester_id


def involves(introduction: Introduction, person_id: int) -> bool:
    return person_id in (introduction.requester_id, introduction.recipient_id)


async def is_blocked(session: AsyncSession, blocker: int, blocked: int) -> bool:
    found = await session.scalar(
        select(Block.id).where(Block.blocker_id == blocker, Block.blocked_id == blocked).limit(1)
    )
    return found is not None


async def blocked_pairs(session: AsyncSession) -> set[frozenset[int]]:
    rows = await session.execute(select(Block.blocker_id, Block.blocked_id))
    return {frozenset(row) for row in rows.all()}


async def _between(session: AsyncSession, a: int, b: int, statuses: Sequence[str]) -> Introduction | None:
    return await session.scalar(
        select(Introduction)
        .where(
            or_(
                (Introduction.requester_id == a) & (Introduction.recipient_id == b),
                (Introduction.requester_id == b) & (Introduction.recipient_id == a),
            ),
            Introduction.status.in_(statuses),
        )
        .order_by(Introduction.id.desc())
        .limit(1)
    )


async def open_count(session: AsyncSession, person_id: int) -> int:
    """Requests the person made that wait for an answer (a declined one still counts: they cannot tell)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Introduction)
        .where(
            Introduction.requester_id == person_id,
            Introduction.status.in_(OPEN_STATUSES),
            Introduction.round_id.is_(None),
        )
    )
    return int(count or 0)


async def check_request(
    session: AsyncSession, requester: Person, target_id: int, limits: Limits, t: Translator
) -> Peer:
    """The person asked for, when `requester` may ask them now; else `Problem`."""
    if target_id == requester.id:
        raise Problem(TO_YOURSELF)
    target = await profiles.peer(session, target_id)
    if target.person is None or target.person.role != Role.FOCAL_POINT.value or target.city is None:
        raise Problem(NOT_A_PEER)
    shown = profiles.name(target, t)
    if await is_blocked(session, requester.id, target_id):
        raise Problem(YOU_BLOCKED, name=shown)
    profile = target.profile
    if profile is None or not profile.introductions or await is_blocked(session, target_id, requester.id):
        raise Problem(NOT_TAKING, name=shown)
    existing = await _between(
        session, requester.id, target_id, (*OPEN_STATUSES, IntroductionStatus.ACCEPTED.value)
    )
    if existing is not None:
        if existing.status == IntroductionStatus.ACCEPTED.value:
            raise Problem(ALREADY_INTRODUCED, name=shown)
        raise Problem(ALREADY_ASKED if existing.requester_id == requester.id else THEY_ASKED, name=shown)
    if await open_count(session, requester.id) >= limits.max_open:
        raise Problem(TOO_MANY_OPEN, count=limits.max_open)
    if await reachable_identity(session, target_id) is None:
        raise Problem(UNREACHABLE, name=shown)
    return target


async def request(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    taxonomy: Taxonomy,
    requester: Person,
    target_id: int,
    note: str,
    now: datetime,
    limits: Limits,
) -> tuple[Introduction, Peer]:
    """Ask `target_id` for an introduction; the request reaches them through the outbox."""
    target = await check_request(
        session, requester, target_id, limits, catalogs.translator(requester.language)
    )
    introduction = Introduction(
        requester_id=requester.id,
        recipient_id=target_id,
        note=note.strip()[:MAX_NOTE],
        status=IntroductionStatus.PENDING.value,
        created_at=now,
        expires_at=now + timedelta(days=limits.expire_days),
    )
    session.add(introduction)
    await session.flush()
    assert target.person is not None
    t = catalogs.translator(target.person.language)
    me = await profiles.peer(session, requester.id)
    parts = [t.gettext(REQUEST, name=profiles.name(me, t)), profiles.card(me, t, taxonomy)]
    if introduction.note:
        parts.append(t.gettext(REQUEST_NOTE, note=introduction.note))
    assert introduction.expires_at is not None
    parts.append(t.gettext(REQUEST_HOW, date=t.date(introduction.expires_at)))
    buttons = (
        Button(t.gettext(ACCEPT), IntroButton("accept", introduction.id).pack()),
        Button(t.gettext(DECLINE), IntroButton("decline", introduction.id).pack()),
        Button(t.gettext(BLOCK), IntroButton("block", introduction.id).pack()),
    )
    await _tell(
        session, outbox, introduction, target_id, "request", Reply("\n\n".join(parts), buttons=buttons)
    )
    return introduction, target


async def _tell(
    session: AsyncSession, outbox: Outbox, introduction: Introduction, person_id: int, what: str, reply: Reply
) -> bool:
    identity = await reachable_identity(session, person_id)
    if identity is None:
        return False
    return await outbox.enqueue(
        session,
        key=f"intro:{introduction.id}:p{person_id}:{what}",
        platform=identity.platform,
        recipient=identity.chat_id,
        reply=reply,
    )


async def contact_line(session: AsyncSession, person_id: int | None, t: Translator) -> str:
    """How to reach them: their Telegram username, else the relay."""
    if person_id is not None:
        identity = await session.scalar(
            select(PlatformIdentity)
            .where(
                PlatformIdentity.person_id == person_id,
                PlatformIdentity.platform == TELEGRAM,
                PlatformIdentity.username.is_not(None),
            )
            .limit(1)
        )
        if identity is not None and identity.username:
            return t.gettext(CONTACT_USERNAME, username=identity.username)
    return t.gettext(CONTACT_RELAY)


def first_name(peer: Peer, t: Translator) -> str:
    if peer.person is None or not peer.person.display_name:
        return t.gettext("them")
    return peer.person.display_name.split()[0][:30]


def accepted_buttons(introduction: Introduction, peer: Peer, t: Translator) -> tuple[Button, ...]:
    return (
        Button(t.gettext(WRITE, name=first_name(peer, t)), IntroButton("write", introduction.id).pack()),
        Button(t.gettext(END), IntroButton("end", introduction.id).pack()),
        Button(t.gettext(BLOCK), IntroButton("block", introduction.id).pack()),
    )


async def _mine(session: AsyncSession, person: Person, introduction_id: int) -> Introduction:
    introduction = await session.get(Introduction, introduction_id)
    if introduction is None or not involves(introduction, person.id):
        raise Problem(GONE)
    return introduction


async def accept(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    person: Person,
    introduction_id: int,
    now: datetime,
) -> tuple[Introduction, Reply]:
    """The recipient accepts: the requester is told with the recipient's contact; the reply holds the
    requester's."""
    introduction = await _mine(session, person, introduction_id)
    if introduction.recipient_id != person.id or introduction.status != IntroductionStatus.PENDING.value:
        raise Problem(NOT_OPEN)
    if introduction.expires_at is not None and introduction.expires_at <= now:
        raise Problem(NOT_OPEN)
    claimed = await session.execute(
        update(Introduction)
        .where(Introduction.id == introduction.id, Introduction.status == IntroductionStatus.PENDING.value)
        .values(status=IntroductionStatus.ACCEPTED.value, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(NOT_OPEN)
    await session.refresh(introduction)
    requester = await profiles.peer(session, introduction.requester_id)
    me = await profiles.peer(session, person.id)
    if requester.person is not None:
        t = catalogs.translator(requester.person.language)
        text = "\n\n".join(
            [t.gettext(ACCEPTED_BY, name=profiles.name(me, t)), await contact_line(session, person.id, t)]
        )
        await _tell(
            session,
            outbox,
            introduction,
            requester.person.id,
            "accepted",
            Reply(text, buttons=accepted_buttons(introduction, me, t)),
        )
    t = catalogs.translator(person.language)
    text = "\n\n".join(
        [
            t.gettext(YOU_ACCEPTED, name=profiles.name(requester, t)),
            await contact_line(session, introduction.requester_id, t),
        ]
    )
    return introduction, Reply(text, buttons=accepted_buttons(introduction, requester, t), edit=True)


async def decline(session: AsyncSession, person: Person, introduction_id: int, now: datetime) -> Introduction:
    """Declined, silently: the requester sees "no response" once the request expires."""
    introduction = await _mine(session, person, introduction_id)
    if introduction.recipient_id != person.id or introduction.status != IntroductionStatus.PENDING.value:
        raise Problem(NOT_OPEN)
    introduction.status = IntroductionStatus.DECLINED.value
    introduction.answered_at = now
    return introduction


async def withdraw(
    session: AsyncSession, person: Person, introduction_id: int, now: datetime
) -> Introduction:
    introduction = await _mine(session, person, introduction_id)
    if introduction.requester_id != person.id or introduction.status not in OPEN_STATUSES:
        raise Problem(NOT_OPEN)
    introduction.status = IntroductionStatus.WITHDRAWN.value
    introduction.ended_at = now
    return introduction


async def end(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    person: Person,
    introduction_id: int,
    now: datetime,
    *,
    tell: bool = True,
) -> Introduction:
    """Close an accepted introduction: nothing more is passed on. The other side is told (unless the
    end comes from a block, which is silent)."""
    introduction = await _mine(session, person, introduction_id)
    if introduction.status != IntroductionStatus.ACCEPTED.value:
        raise Problem(ENDED)
    introduction.status = IntroductionStatus.ENDED.value
    introduction.ended_at = now
    other = other_side(introduction, person.id)
    if tell and other is not None:
        reader = await session.get(Person, other)
        t = catalogs.translator(reader.language if reader else None)
        me = await profiles.peer(session, person.id)
        await _tell(
            session,
            outbox,
            introduction,
            other,
            "ended",
            Reply(t.gettext(ENDED_BY, name=profiles.name(me, t))),
        )
    return introduction


async def block(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, person: Person, other_id: int, now: datetime
) -> None:
    """`person` blocks `other_id`, silently: requests between them close, introductions end untold."""
    if other_id == person.id:
        raise Problem(TO_YOURSELF)
    if not await is_blocked(session, person.id, other_id):
        session.add(Block(blocker_id=person.id, blocked_id=other_id, created_at=now))
    rows = await session.scalars(
        select(Introduction).where(
            or_(
                (Introduction.requester_id == person.id) & (Introduction.recipient_id == other_id),
                (Introduction.requester_id == other_id) & (Introduction.recipient_id == person.id),
            ),
            Introduction.status.in_((*OPEN_STATUSES, IntroductionStatus.ACCEPTED.value)),
        )
    )
    for introduction in rows.all():
        if introduction.status == IntroductionStatus.ACCEPTED.value:
            introduction.status = IntroductionStatus.ENDED.value
            introduction.ended_at = now
        elif introduction.requester_id == person.id:
            introduction.status = IntroductionStatus.WITHDRAWN.value
            introduction.ended_at = now
        elif introduction.status == IntroductionStatus.PENDING.value:
            introduction.status = IntroductionStatus.DECLINED.value  # they see "no response" in time
            introduction.answered_at = now


async def unblock(session: AsyncSession, person: Person, other_id: int) -> bool:
    result = await session.execute(
        delete(Block).where(Block.blocker_id == person.id, Block.blocked_id == other_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def blocked_by(session: AsyncSession, person: Person) -> list[Peer]:
    ids = (await session.scalars(select(Block.blocked_id).where(Block.blocker_id == person.id))).all()
    return [await profiles.peer(session, other) for other in ids]


async def relay(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    person: Person,
    introduction_id: int,
    text: str,
) -> Peer:
    """Pass `text` on to the other side of an accepted introduction, marked with the sender's name and
    city; returns who it went to. `Problem` when the introduction is not open any more."""
    introduction = await _mine(session, person, introduction_id)
    other = other_side(introduction, person.id)
    if introduction.status != IntroductionStatus.ACCEPTED.value or other is None:
        raise Problem(ENDED)
    if await is_blocked(session, other, person.id):
        raise Problem(ENDED)
    introduction.relayed += 1
    number = introduction.relayed
    peer = await profiles.peer(session, other)
    me = await profiles.peer(session, person.id)
    t = catalogs.translator(peer.person.language if peer.person else None)
    body = f"{t.gettext(RELAYED, name=profiles.name(me, t))}\n\n{text.strip()[:MAX_RELAYED]}"
    buttons = (
        Button(t.gettext("Reply"), IntroButton("write", introduction.id).pack()),
        Button(t.gettext(END), IntroButton("end", introduction.id).pack()),
        Button(t.gettext(BLOCK), IntroButton("block", introduction.id).pack()),
    )
    if not await _tell(session, outbox, introduction, other, f"relay:{number}", Reply(body, buttons=buttons)):
        raise Problem(UNREACHABLE, name=profiles.name(peer, catalogs.translator(person.language)))
    return peer


async def introduction_of_message(
    session: AsyncSession, platform: str, chat: str, message_id: str
) -> int | None:
    """The introduction a delivered message belongs to (a Telegram reply to a relayed message)."""
    key = await session.scalar(
        select(Delivery.key).where(
            Delivery.platform == platform,
            Delivery.recipient == chat,
            Delivery.platform_message_id == message_id,
            Delivery.key.like("intro:%"),
        )
    )
    if key is None:
        return None
    raw = key.split(":")[1]
    return record_id(raw)


async def expire_due(session: AsyncSession, outbox: Outbox, catalogs: Catalogs, now: datetime) -> int:
    """Close every request whose time ran out (answered with a decline or not) and tell its requester
    "no response"; how many were closed."""
    due = (
        await session.scalars(
            select(Introduction)
            .where(Introduction.status.in_(OPEN_STATUSES), Introduction.expires_at <= now)
            .order_by(Introduction.expires_at, Introduction.id)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for introduction in due:
        introduction.status = IntroductionStatus.EXPIRED.value
        introduction.closed_told_at = now
        if introduction.requester_id is None:
            continue
        requester = await session.get(Person, introduction.requester_id)
        t = catalogs.translator(requester.language if requester else None)
        target = await profiles.peer(session, introduction.recipient_id)
        text = t.gettext(NO_RESPONSE, name=profiles.name(target, t))
        await _tell(session, outbox, introduction, introduction.requester_id, "expired", Reply(text))
    return len(due)


async def next_expiry(session: AsyncSession) -> datetime | None:
    found: datetime | None = await session.scalar(
        select(func.min(Introduction.expires_at)).where(Introduction.status.in_(OPEN_STATUSES))
    )
    return found


CLOSED_SHOWN = (IntroductionStatus.ENDED.value, IntroductionStatus.EXPIRED.value)


@dataclass(frozen=True, slots=True)
class Listing:
    received: list[tuple[Introduction, Peer]]  # requests waiting for my answer
    sent: list[tuple[Introduction, Peer]]  # my requests waiting (declined ones look the same)
    introduced: list[tuple[Introduction, Peer]]  # accepted, open
    closed: list[tuple[Introduction, Peer]]  # the last few that ended or expired


async def listing(session: AsyncSession, person: Person, closed_limit: int = 5) -> Listing:
    rows = (
        await session.scalars(
            select(Introduction)
            .where(or_(Introduction.requester_id == person.id, Introduction.recipient_id == person.id))
            .order_by(Introduction.id.desc())
            .limit(200)
        )
    ).all()
    out = Listing([], [], [], [])
    for introduction in rows:
        peer = await profiles.peer(session, other_side(introduction, person.id))
        status = introduction.status
        if status == IntroductionStatus.ACCEPTED.value:
            out.introduced.append((introduction, peer))
        elif status in OPEN_STATUSES and introduction.requester_id == person.id:
            out.sent.append((introduction, peer))
        elif status == IntroductionStatus.PENDING.value:
            out.received.append((introduction, peer))
        elif status in CLOSED_SHOWN and len(out.closed) < closed_limit:
            out.closed.append((introduction, peer))
    return out


@dataclass(frozen=True, slots=True)
class Counts:
    requested: int
    accepted: int
    waiting: int
    matched: int
    blocks: int


async def counts(session: AsyncSession, since: datetime) -> Counts:
    """For staff: how many, never who or what."""
    requested = await session.scalar(
        select(func.count()).where(Introduction.created_at >= since, Introduction.round_id.is_(None))
    )
    accepted = await session.scalar(
        select(func.count()).where(
            Introduction.answered_at >= since,
            Introduction.round_id.is_(None),
            Introduction.status.in_((IntroductionStatus.ACCEPTED.value, IntroductionStatus.ENDED.value)),
        )
    )
    waiting = await session.scalar(
        select(func.count()).where(Introduction.status.in_(OPEN_STATUSES), Introduction.round_id.is_(None))
    )
    matched = await session.scalar(
        select(func.count()).where(Introduction.created_at >= since, Introduction.round_id.is_not(None))
    )
    blocks = await session.scalar(select(func.count()).select_from(Block))
    return Counts(
        int(requested or 0), int(accepted or 0), int(waiting or 0), int(matched or 0), int(blocks or 0)
    )


# ---- privacy -----------------------------------------------------------------------------------------
async def _export(session: AsyncSession, person: Person) -> dict[str, object] | None:
    rows = (
        await session.scalars(
            select(Introduction)
            .where(or_(Introduction.requester_id == person.id, Introduction.recipient_id == person.id))
            .order_by(Introduction.id)
        )
    ).all()
    blocked = (await session.scalars(select(Block.blocked_id).where(Block.blocker_id == person.id))).all()
    if not rows and not blocked:
        return None
    items = []
    for introduction in rows:
        other = other_side(introduction, person.id)
        other_person = await session.get(Person, other) if other is not None else None
        items.append(
            {
                "id": introduction.id,
                "you": "asked" if introduction.requester_id == person.id else "were asked",
                "with": other_person.display_name if other_person else "a focal point who has left",
                "from_matching_round": introduction.round_id,
                "status": introduction.status,
                "note": introduction.note if introduction.requester_id == person.id else "",
                "created_at": introduction.created_at.isoformat(),
                "messages_passed_on": introduction.relayed,
            }
        )
    names = []
    for other_id in blocked:
        other_person = await session.get(Person, other_id)
        names.append(other_person.display_name if other_person else str(other_id))
    return {"introductions": items, "you_blocked": names}


async def _erase(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    """Requests close; accepted introductions end; the other side keeps the introduction as "a focal
    point who has left" and every message they were sent about this person is scrubbed."""
    rows = (
        await session.scalars(
            select(Introduction).where(
                or_(Introduction.requester_id == person.id, Introduction.recipient_id == person.id)
            )
        )
    ).all()
    for introduction in rows:
        other = other_side(introduction, person.id)
        if introduction.status in (*OPEN_STATUSES, IntroductionStatus.ACCEPTED.value):
            introduction.status = (
                IntroductionStatus.ENDED.value
                if introduction.status == IntroductionStatus.ACCEPTED.value
                else IntroductionStatus.WITHDRAWN.value
            )
            introduction.ended_at = erasure.now
        if introduction.requester_id == person.id:
            introduction.note = ""
        if other is not None:
            reader = await session.get(Person, other)
            await privacy.scrub_staff_copies(
                session,
                erasure,
                f"intro:{introduction.id}:p{other}:",
                LEFT_MESSAGE,
                in_language=reader.language if reader else None,
            )
    await session.execute(
        delete(Block).where(or_(Block.blocker_id == person.id, Block.blocked_id == person.id))
    )


privacy.register(
    "introductions",
    covers=(
        "introduction.requester_id",
        "introduction.recipient_id",
        "peer_block.blocker_id",
        "peer_block.blocked_id",
    ),
    export=_export,
    erase=_erase,
    note="introductions asked for, accepted and passed on; blocks (the other side keeps 'a focal point "
    "who has left')",
)


def takes_requests(profile: Profile | None) -> bool:
    return profile is not None and profile.introductions
