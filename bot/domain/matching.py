"""Matching rounds: once a month (by default) focal points who opted in are introduced to a peer.

A round is announced `MATCHING_ANNOUNCE_HOURS` before it runs, with a button to skip it; when it runs,
the people taking part (opted in, verified, reachable, not skipping) are paired by `bot.domain.pairing`
(different cities, a shared language, shared challenges and different regions preferred, no blocked
pair, no pair that met in the last `MATCHING_AVOID_ROUNDS` rounds; an odd one out makes a trio). Each
match is an accepted introduction (`bot.domain.introductions`), sent with a first question drawn from
the challenges they share. Staff run one at once with `/matching run`, and see counts, never pairs.

A round is a row: announcing inserts it (its time is unique, so two instances announce once), running
takes it with a conditional update (so it runs once), and every message has an idempotency key.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CallbackData
from bot.config import Settings
from bot.delivery.outbox import Outbox, OutboxMessage
from bot.domain import introductions, privacy, profiles
from bot.domain.pairing import Candidate, Pair, pair_up
from bot.domain.profiles import Peer
from bot.domain.staff import notice_destinations
from bot.i18n import N_, Catalogs, Translator
from bot.messages import Button, Reply
from bot.storage.peers import Introduction, IntroductionStatus, MatchRound, MatchSkip, Profile, RoundStatus
from bot.storage.people import City, CityStatus, Person, PlatformIdentity, Role
from bot.taxonomy import Taxonomy

ANNOUNCEMENT = N_(
    "The next matching round is on {date}: I will introduce you to a focal point of another city who "
    "speaks a language you speak, and shares some of your challenges where possible."
)
ANNOUNCEMENT_SKIP = N_("Busy this month? Skip this round, or leave matching rounds altogether.")
SKIP = N_("Skip this round")
UNSKIP = N_("Take part after all")
LEAVE = N_("Leave matching rounds")
JOIN = N_("Join matching rounds")
MATCHED = N_("This month's matching round introduces you to:")
MATCHED_TRIO = N_("This month's matching round introduces you to two focal points, as a group of three:")
FIRST_QUESTION = N_("A question to start with: {question}")
GENERAL_QUESTION = N_("What is one thing your city has learned about prevention that others should know?")
NO_MATCH = N_(
    "This round I could not find you a match: nobody free this time speaks a language you speak. You "
    "are in the next round."
)
STAFF_REPORT = N_(
    "Matching round #{id}: {taking_part} taking part, {pairs} pairs, {trios} trios, {unmatched} without "
    "a match."
)


@dataclass(frozen=True)
class MatchButton(CallbackData, prefix="matching"):
    action: str  # skip | unskip | join | leave
    round: int = 0


@dataclass(frozen=True, slots=True)
class Schedule:
    enabled: bool = True
    every_months: int = 1
    day: int = 1
    hour: int = 9
    minute: int = 0
    announce: timedelta = timedelta(hours=24)
    avoid_rounds: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        hour, _, minute = settings.matching_time.partition(":")
        return cls(
            enabled=settings.matching_enabled,
            every_months=settings.matching_every_months,
            day=settings.matching_day,
            hour=int(hour),
            minute=int(minute),
            announce=timedelta(hours=settings.matching_announce_hours),
            avoid_rounds=settings.matching_avoid_rounds,
        )

    def next_run(self, after: datetime) -> datetime:
        """The first round time strictly after `after`: day `day` at `hour:minute` UTC, every
        `every_months` months (counted from January of year 0, so every instance agrees)."""
        after = after.astimezone(UTC)
        month_index = after.year * 12 + after.month - 1
        while True:
            if month_index % self.every_months == 0:
                year, month = divmod(month_index, 12)
                moment = datetime(year, month + 1, self.day, self.hour, self.minute, tzinfo=UTC)
                if moment > after:
                    return moment
            month_index += 1


@dataclass(frozen=True, slots=True)
class Plan:
    """What the scheduler should do next: announce a round at `announce_at` for `run_at`, or run the
    announced round `round_id` at `run_at`."""

    run_at: datetime
    announce_at: datetime | None = None
    round_id: int | None = None


async def pending_round(session: AsyncSession) -> MatchRound | None:
    return await session.scalar(
        select(MatchRound)
        .where(MatchRound.status == RoundStatus.ANNOUNCED.value)
        .order_by(MatchRound.scheduled_at)
        .limit(1)
    )


async def last_round(session: AsyncSession) -> MatchRound | None:
    return await session.scalar(select(MatchRound).order_by(MatchRound.scheduled_at.desc()).limit(1))


async def plan(session: AsyncSession, schedule: Schedule, now: datetime) -> Plan | None:
    if not schedule.enabled:
        return None
    pending = await pending_round(session)
    if pending is not None:
        return Plan(pending.scheduled_at, round_id=pending.id)
    last = await last_round(session)
    after = max(now, last.scheduled_at) if last is not None else now
    run_at = schedule.next_run(after)
    return Plan(run_at, announce_at=max(run_at - schedule.announce, now))


# ---- who takes part ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Member:
    peer: Peer
    identity: PlatformIdentity
    username: str | None


async def members(session: AsyncSession, skipping_round: int | None = None) -> dict[int, Member]:
    """Focal points of member cities who opted in, speak a language and can be reached, by person id
    (without those who skip round `skipping_round`)."""
    rows = (
        await session.execute(
            select(Person, Profile, City)
            .join(Profile, Profile.person_id == Person.id)
            .join(City, City.id == Person.city_id)
            .where(
                Profile.matching.is_(True),
                Person.role == Role.FOCAL_POINT.value,
                City.status == CityStatus.MEMBER.value,
            )
            .order_by(Person.id)
        )
    ).all()
    skipping: set[int] = set()
    if skipping_round is not None:
        skipping = set(
            (
                await session.scalars(select(MatchSkip.person_id).where(MatchSkip.round_id == skipping_round))
            ).all()
        )
    identities = (
        await session.scalars(
            select(PlatformIdentity)
            .join(Profile, Profile.person_id == PlatformIdentity.person_id)
            .where(PlatformIdentity.unreachable_at.is_(None), Profile.matching.is_(True))
            .order_by(PlatformIdentity.platform != "telegram", PlatformIdentity.id)
        )
    ).all()
    reach: dict[int, PlatformIdentity] = {}
    handles: dict[int, str] = {}
    for identity in identities:
        reach.setdefault(identity.person_id, identity)
        if identity.platform == introductions.TELEGRAM and identity.username:
            handles.setdefault(identity.person_id, identity.username)
    found: dict[int, Member] = {}
    for person, profile, city in rows:
        if person.id in skipping or person.id not in reach or not profile.languages:
            continue
        found[person.id] = Member(Peer(person, profile, city), reach[person.id], handles.get(person.id))
    return found


async def recent_pairs(session: AsyncSession, rounds: int) -> set[Pair]:
    """Pairs made by the last `rounds` rounds that ran."""
    if rounds <= 0:
        return set()
    recent = (
        await session.scalars(
            select(MatchRound.id)
            .where(MatchRound.status == RoundStatus.DONE.value)
            .order_by(MatchRound.scheduled_at.desc())
            .limit(rounds)
        )
    ).all()
    if not recent:
        return set()
    rows = await session.execute(
        select(Introduction.requester_id, Introduction.recipient_id).where(Introduction.round_id.in_(recent))
    )
    return {frozenset((a, b)) for a, b in rows.all() if a is not None and b is not None}


def candidate(member: Member) -> Candidate:
    person, profile, city = member.peer.person, member.peer.profile, member.peer.city
    assert person is not None and profile is not None and city is not None
    return Candidate(person.id, city.id, city.region, frozenset(profile.languages), frozenset(profile.topics))


# ---- announcing and skipping -------------------------------------------------------------------------
async def announce(
    session: AsyncSession, outbox: Outbox, catalogs: Catalogs, run_at: datetime, now: datetime
) -> MatchRound | None:
    """Create the round for `run_at` and tell everyone taking part, with Skip; None when another
    instance announced it already."""
    round_ = MatchRound(scheduled_at=run_at, status=RoundStatus.ANNOUNCED.value, announced_at=now)
    try:
        async with session.begin_nested():
            session.add(round_)
    except IntegrityError:
        return None
    await session.flush()
    taking_part = await members(session)
    by_platform: dict[str, list[OutboxMessage]] = defaultdict(list)
    replies: dict[str, Reply] = {}
    for person_id, member in taking_part.items():
        assert member.peer.person is not None
        language = member.peer.person.language or catalogs.default_language
        reply = replies.get(language)
        if reply is None:
            t = catalogs.translator(language)
            text = f"{t.gettext(ANNOUNCEMENT, date=t.date(run_at))}\n\n{t.gettext(ANNOUNCEMENT_SKIP)}"
            reply = replies[language] = Reply(
                text,
                buttons=(
                    Button(t.gettext(SKIP), MatchButton("skip", round_.id).pack()),
                    Button(t.gettext(LEAVE), MatchButton("leave", round_.id).pack()),
                ),
            )
        by_platform[member.identity.platform].append(
            OutboxMessage(f"match:{round_.id}:p{person_id}:announce", member.identity.chat_id, reply)
        )
    for platform, messages in by_platform.items():
        await outbox.enqueue_many(session, platform, messages)
    return round_


async def skip(session: AsyncSession, person: Person, round_id: int, skipping: bool) -> MatchRound | None:
    """Skip (or take part after all in) an announced round; None when it has already run."""
    round_ = await session.get(MatchRound, round_id)
    if round_ is None or round_.status != RoundStatus.ANNOUNCED.value:
        return None
    found = await session.scalar(
        select(MatchSkip).where(MatchSkip.round_id == round_id, MatchSkip.person_id == person.id)
    )
    if skipping and found is None:
        session.add(MatchSkip(round_id=round_id, person_id=person.id))
    elif not skipping and found is not None:
        await session.delete(found)
    return round_


async def skips(session: AsyncSession, person: Person, round_id: int) -> bool:
    found = await session.scalar(
        select(MatchSkip.id).where(MatchSkip.round_id == round_id, MatchSkip.person_id == person.id)
    )
    return found is not None


# ---- running -----------------------------------------------------------------------------------------
async def take(session: AsyncSession, now: datetime, round_id: int | None) -> MatchRound | None:
    """The round to run now, taken so no other instance runs it: `round_id`, else the announced one,
    else a new one (a staff member's `/matching run` with nothing announced). None when it is taken."""
    if round_id is None:
        pending = await pending_round(session)
        if pending is None:
            fresh = MatchRound(scheduled_at=now, status=RoundStatus.RUNNING.value, announced_at=None)
            try:
                async with session.begin_nested():
                    session.add(fresh)
            except IntegrityError:  # another run started at this very instant
                return None
            return fresh
        round_id = pending.id
    claimed = await session.execute(
        update(MatchRound)
        .where(MatchRound.id == round_id, MatchRound.status == RoundStatus.ANNOUNCED.value)
        .values(status=RoundStatus.RUNNING.value)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    round_ = await session.get(MatchRound, round_id)
    if round_ is not None:
        await session.refresh(round_)
    return round_


async def run(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    taxonomy: Taxonomy,
    schedule: Schedule,
    now: datetime,
    *,
    round_id: int | None = None,
    started_by: Person | None = None,
    staff_channels: dict[str, str] | None = None,
) -> MatchRound | None:
    """Run a round: pair, record each pair as an accepted introduction, tell everyone. None when the
    round was already taken by someone else."""
    round_ = await take(session, now, round_id)
    if round_ is None:
        return None
    taking_part = await members(session, round_.id)
    avoid = await introductions.blocked_pairs(session) | await recent_pairs(session, schedule.avoid_rounds)
    groups = pair_up([candidate(m) for m in taking_part.values()], avoid, seed=round_.id)
    made: list[tuple[tuple[int, ...], dict[tuple[int, int], Introduction]]] = []
    for number, group in enumerate(groups, start=1):
        pairs: dict[tuple[int, int], Introduction] = {}
        for index, a in enumerate(group):
            for b in group[index + 1 :]:
                introduction = Introduction(
                    requester_id=a,
                    recipient_id=b,
                    status=IntroductionStatus.ACCEPTED.value,
                    round_id=round_.id,
                    match_group=number,
                    created_at=now,
                    answered_at=now,
                )
                session.add(introduction)
                pairs[(a, b)] = introduction
        made.append((group, pairs))
    await session.flush()
    rng = random.Random(round_.id)
    by_platform: dict[str, list[OutboxMessage]] = defaultdict(list)
    for group, pairs in made:
        for person_id in group:
            member = taking_part[person_id]
            others = [(other, _pair(pairs, person_id, other)) for other in group if other != person_id]
            reply = _match_message(member, [(taking_part[o], i) for o, i in others], catalogs, taxonomy, rng)
            by_platform[member.identity.platform].append(
                OutboxMessage(f"match:{round_.id}:p{person_id}:matched", member.identity.chat_id, reply)
            )
    matched = {person for group in groups for person in group}
    for person_id, member in taking_part.items():
        if person_id in matched:
            continue
        assert member.peer.person is not None
        t = catalogs.translator(member.peer.person.language)
        by_platform[member.identity.platform].append(
            OutboxMessage(
                f"match:{round_.id}:p{person_id}:none", member.identity.chat_id, Reply(t.gettext(NO_MATCH))
            )
        )
    for platform, messages in by_platform.items():
        await outbox.enqueue_many(session, platform, messages)
    round_.status = RoundStatus.DONE.value
    round_.ran_at = now
    round_.started_by_id = started_by.id if started_by is not None else None
    round_.taking_part = len(taking_part)
    round_.pairs = sum(1 for group in groups if len(group) == 2)
    round_.trios = sum(1 for group in groups if len(group) == 3)
    round_.unmatched = len(taking_part) - len(matched)
    if started_by is None and staff_channels is not None:
        await _report(session, outbox, catalogs, round_, staff_channels)
    return round_


def _pair(pairs: dict[tuple[int, int], Introduction], a: int, b: int) -> Introduction:
    return pairs[(min(a, b), max(a, b))]


def _match_message(
    member: Member,
    partners: Sequence[tuple[Member, Introduction]],
    catalogs: Catalogs,
    taxonomy: Taxonomy,
    rng: random.Random,
) -> Reply:
    person, profile = member.peer.person, member.peer.profile
    assert person is not None and profile is not None
    t = catalogs.translator(person.language)
    parts = [t.gettext(MATCHED if len(partners) == 1 else MATCHED_TRIO)]
    buttons: list[Button] = []
    shared = set(profile.topics)
    for partner, introduction in partners:
        contact = (
            t.gettext(introductions.CONTACT_USERNAME, username=partner.username)
            if partner.username
            else t.gettext(introductions.CONTACT_RELAY)
        )
        parts.append(f"{profiles.card(partner.peer, t, taxonomy)}\n{contact}")
        buttons.append(
            Button(
                t.gettext(introductions.WRITE, name=introductions.first_name(partner.peer, t)),
                introductions.IntroButton("write", introduction.id).pack(),
            )
        )
        partner_topics = partner.peer.profile.topics if partner.peer.profile is not None else []
        shared &= set(partner_topics)
    common = [topic for topic in profile.topics if topic in shared and topic in taxonomy.challenges]
    question = taxonomy.challenges[rng.choice(common)].question(t.language) if common else ""
    parts.append(t.gettext(FIRST_QUESTION, question=question or t.gettext(GENERAL_QUESTION)))
    return Reply("\n\n".join(parts), buttons=tuple(buttons))


async def _report(
    session: AsyncSession,
    outbox: Outbox,
    catalogs: Catalogs,
    round_: MatchRound,
    staff_channels: dict[str, str],
) -> None:
    for place in await notice_destinations(session, staff_channels, catalogs.default_language):
        t = catalogs.translator(place.language)
        await outbox.enqueue(
            session,
            key=f"match:{round_.id}:report:{place.platform}:{place.chat}",
            platform=place.platform,
            recipient=place.chat,
            reply=Reply(report(round_, t)),
        )


def report(round_: MatchRound, t: Translator) -> str:
    return t.gettext(
        STAFF_REPORT,
        id=round_.id,
        taking_part=round_.taking_part,
        pairs=round_.pairs,
        trios=round_.trios,
        unmatched=round_.unmatched,
    )


async def opted_in(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(Profile).where(Profile.matching.is_(True)))
    return int(count or 0)


# ---- privacy -----------------------------------------------------------------------------------------
async def _export(session: AsyncSession, person: Person) -> list[dict[str, object]]:
    rows = await session.execute(
        select(MatchRound.id, MatchRound.scheduled_at)
        .join(MatchSkip, MatchSkip.round_id == MatchRound.id)
        .where(MatchSkip.person_id == person.id)
        .order_by(MatchRound.id)
    )
    return [{"skipped_round": rid, "scheduled_at": at.isoformat()} for rid, at in rows.all()]


async def _erase(session: AsyncSession, person: Person, erasure: privacy.Erasure) -> None:
    """Skips go; a partner's match message naming this person is scrubbed (the introductions
    themselves are the introductions part's)."""
    await session.execute(delete(MatchSkip).where(MatchSkip.person_id == person.id))
    rows = await session.execute(
        select(Introduction.round_id, Introduction.requester_id, Introduction.recipient_id).where(
            Introduction.round_id.is_not(None),
            (Introduction.requester_id == person.id) | (Introduction.recipient_id == person.id),
        )
    )
    for round_id, a, b in rows.all():
        other = b if a == person.id else a
        if other is None:
            continue
        reader = await session.get(Person, other)
        await privacy.scrub_staff_copies(
            session,
            erasure,
            f"match:{round_id}:p{other}:matched",
            introductions.LEFT_MESSAGE,
            in_language=reader.language if reader else None,
        )


privacy.register(
    "matching_rounds",
    covers=("match_skip.person_id", "match_round.started_by_id"),
    export=_export,
    erase=_erase,
    note="rounds skipped; pairs made are introductions",
)
