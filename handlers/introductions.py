"""`/introductions` and what can be done with one: accept, decline, block, withdraw, end, and write
through the bot (the relay) to someone you were introduced to.

Writing: "Write to Amina" asks for one message and passes it on (flow `relay`); a Telegram reply to a
passed-on message is passed back the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import introductions, profiles
from bot.domain.introductions import IntroButton
from bot.domain.people import Permission
from bot.domain.problems import Problem
from bot.i18n import N_
from bot.ids import record_id
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.peers import OPEN_STATUSES, Introduction, IntroductionStatus

router = Router("introductions")
RELAY_FLOW = "relay"
MAX_LISTED = 10


@dataclass(frozen=True)
class UnblockButton(CallbackData, prefix="unblock"):
    person: int


def _date(ctx: Context, introduction: Introduction) -> str:
    return ctx.t.date(introduction.expires_at) if introduction.expires_at else ""


@router.command(
    "introductions",
    description=N_("Your introductions: requests, who you are introduced to, blocks"),
    private_only=True,
    needs=Permission.INTRODUCE,
)
async def show_introductions(ctx: Context) -> Reply:
    found = await introductions.listing(ctx.session, ctx.person)
    blocked = await introductions.blocked_by(ctx.session, ctx.person)
    lines: list[str] = []
    buttons: list[Button] = []
    t = ctx.t
    if found.received:
        lines.append(ctx._("Asking to be introduced to you:"))
        for introduction, peer in found.received[:MAX_LISTED]:
            lines.append(f"• {profiles.name(peer, t)}")
            name = introductions.first_name(peer, t)
            buttons += [
                Button(ctx._("Accept {name}", name=name), IntroButton("accept", introduction.id).pack()),
                Button(ctx._("Decline {name}", name=name), IntroButton("decline", introduction.id).pack()),
            ]
    if found.introduced:
        lines += ["", ctx._("Introduced to:")] if lines else [ctx._("Introduced to:")]
        for introduction, peer in found.introduced[:MAX_LISTED]:
            contact = await introductions.contact_line(ctx.session, peer.id, t)
            lines.append(f"• {profiles.name(peer, t)}: {contact}")
            if peer.person is not None:
                buttons.append(
                    Button(
                        t.gettext(introductions.WRITE, name=introductions.first_name(peer, t)),
                        IntroButton("write", introduction.id).pack(),
                    )
                )
    if found.sent:
        lines += (
            ["", ctx._("Your requests waiting for an answer:")]
            if lines
            else [ctx._("Your requests waiting for an answer:")]
        )
        for introduction, peer in found.sent[:MAX_LISTED]:
            lines.append(
                f"• {profiles.name(peer, t)} " + ctx._("(open until {date})", date=_date(ctx, introduction))
            )
            buttons.append(
                Button(
                    ctx._("Withdraw: {name}", name=introductions.first_name(peer, t)),
                    IntroButton("withdraw", introduction.id).pack(),
                )
            )
    if found.closed:
        lines += ["", ctx._("Recently ended:")] if lines else [ctx._("Recently ended:")]
        for introduction, peer in found.closed:
            how = (
                ctx._("no response")
                if introduction.status == IntroductionStatus.EXPIRED.value
                else ctx._("ended")
            )
            lines.append(f"• {profiles.name(peer, t)}: {how}")
    if blocked:
        lines += ["", ctx._("You blocked:")] if lines else [ctx._("You blocked:")]
        for peer in blocked:
            lines.append(f"• {profiles.name(peer, t)}")
            if peer.person is not None:
                buttons.append(
                    Button(
                        ctx._("Unblock {name}", name=introductions.first_name(peer, t)),
                        UnblockButton(peer.person.id).pack(),
                    )
                )
    if not lines:
        lines.append(ctx._("You have no introductions yet. Find peers with /peers."))
    return Reply("\n".join(lines), buttons=tuple(buttons))


@router.button(IntroButton, private_only=True, needs=Permission.INTRODUCE)
async def intro_button(ctx: Context, pressed: IntroButton) -> Reply:
    session, outbox, now = ctx.session, ctx.services.outbox, ctx.clock.now()
    try:
        if pressed.action == "accept":
            _, reply = await introductions.accept(
                session, outbox, ctx.catalogs, ctx.person, pressed.introduction, now
            )
            return reply
        if pressed.action == "decline":
            introduction = await introductions.decline(session, ctx.person, pressed.introduction, now)
            peer = await profiles.peer(session, introduction.requester_id)
            return Reply(
                ctx._(
                    "Declined. {name} is not told; they will see “no response” when the request expires.",
                    name=profiles.name(peer, ctx.t),
                ),
                edit=True,
            )
        if pressed.action == "withdraw":
            introduction = await introductions.withdraw(session, ctx.person, pressed.introduction, now)
            peer = await profiles.peer(session, introduction.recipient_id)
            return Reply(ctx._("Your request to {name} is withdrawn.", name=profiles.name(peer, ctx.t)))
        if pressed.action == "end":
            introduction = await introductions.end(
                session, outbox, ctx.catalogs, ctx.person, pressed.introduction, now
            )
            await _leave_relay(ctx, introduction.id)
            other = await profiles.peer(session, introductions.other_side(introduction, ctx.person.id))
            return Reply(ctx._(introductions.YOU_ENDED, name=profiles.name(other, ctx.t)))
        if pressed.action == "block":
            return await _block(ctx, pressed.introduction)
        if pressed.action == "write":
            return await _start_writing(ctx, pressed.introduction)
    except Problem as problem:
        return Reply(problem.text(ctx.t))
    return Reply(ctx._(introductions.GONE))


async def _block(ctx: Context, introduction_id: int) -> Reply:
    introduction = await ctx.session.get(Introduction, introduction_id)
    if introduction is None or not introductions.involves(introduction, ctx.person.id):
        return Reply(ctx._(introductions.GONE))
    other = introductions.other_side(introduction, ctx.person.id)
    if other is None:
        return Reply(ctx._(introductions.ENDED))
    peer = await profiles.peer(ctx.session, other)
    await introductions.block(
        ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, other, ctx.clock.now()
    )
    await _leave_relay(ctx, introduction_id)
    return Reply(
        ctx._(
            "You blocked {name}. They are not told; they cannot ask you again, write to you through me, "
            "or be matched with you. Unblock them in /introductions.",
            name=profiles.name(peer, ctx.t),
        ),
        edit=True,
    )


async def _leave_relay(ctx: Context, introduction_id: int) -> None:
    state = await ctx.conversation.load()
    if state is not None and state.flow == RELAY_FLOW and state.step == str(introduction_id):
        await ctx.conversation.finish()


async def _start_writing(ctx: Context, introduction_id: int) -> Reply:
    introduction = await ctx.session.get(Introduction, introduction_id)
    if introduction is None or not introductions.involves(introduction, ctx.person.id):
        return Reply(ctx._(introductions.GONE))
    other = introductions.other_side(introduction, ctx.person.id)
    if introduction.status != IntroductionStatus.ACCEPTED.value or other is None:
        return Reply(ctx._(introductions.ENDED))
    peer = await profiles.peer(ctx.session, other)
    await ctx.conversation.start(RELAY_FLOW, str(introduction_id))
    return Reply(
        ctx._(
            "Write your message for {name}: I will pass it on with your name and city. (Send /cancel to "
            "stop.)",
            name=profiles.name(peer, ctx.t),
        )
    )


async def _relay(ctx: Context, introduction_id: int, text: str) -> Reply:
    try:
        peer = await introductions.relay(
            ctx.session, ctx.services.outbox, ctx.catalogs, ctx.person, introduction_id, text
        )
    except Problem as problem:
        return Reply(problem.text(ctx.t))
    name = introductions.first_name(peer, ctx.t)
    return Reply(
        ctx._("Passed on to {name}.", name=profiles.name(peer, ctx.t)),
        buttons=(
            Button(ctx._("Write again to {name}", name=name), IntroButton("write", introduction_id).pack()),
        ),
    )


@router.step(RELAY_FLOW)
async def relay_step(ctx: Context) -> Reply | None:
    if ctx.incoming.text is None:
        return None  # a button: ordinary routing
    step = ctx.conversation.step or ""
    await ctx.conversation.finish()
    introduction_id = record_id(step)
    if introduction_id is None:
        return None
    return await _relay(ctx, introduction_id, ctx.incoming.text)


@router.reply
async def reply_to_relayed(ctx: Context) -> Reply | None:
    """A Telegram reply to a message passed on from a peer goes back to them."""
    incoming = ctx.incoming
    if incoming.reply_to is None or incoming.text is None or not ctx.can(Permission.INTRODUCE):
        return None
    found = await introductions.introduction_of_message(
        ctx.session, incoming.platform, incoming.chat_id, incoming.reply_to
    )
    introduction = await ctx.session.get(Introduction, found) if found is not None else None
    if introduction is None or introduction.status in OPEN_STATUSES:
        return None  # a reply to a request not answered yet is an ordinary message
    return await _relay(ctx, introduction.id, incoming.text)


@router.button(UnblockButton, private_only=True, needs=Permission.INTRODUCE)
async def unblock_button(ctx: Context, pressed: UnblockButton) -> Reply:
    peer = await profiles.peer(ctx.session, pressed.person)
    if await introductions.unblock(ctx.session, ctx.person, pressed.person):
        return Reply(ctx._("{name} is unblocked.", name=profiles.name(peer, ctx.t)))
    return Reply(ctx._("{name} was not blocked.", name=profiles.name(peer, ctx.t)))
