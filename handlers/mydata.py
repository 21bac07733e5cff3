"""`/mydata` exports what the bot stores about a person; `/forget` erases it, after a confirmation.

Both go through the privacy registry (`bot.domain.privacy`), so every feature's data is included.
The confirmation button carries a one-time token kept with the person's pending form: it works only
in answer to this `/forget`, within `CONFIRM_FOR`, and not after any other message.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import privacy
from bot.i18n import N_
from bot.messages import Attachment, Button, Reply
from bot.routing import Router

router = Router("mydata")
FLOW = "forget"
CONFIRM_FOR = timedelta(minutes=5)
ERASED = N_("Done. Everything I stored about you has been erased. If you write again, I will start afresh.")
EXPIRED = N_("That confirmation has expired. Send /forget again if you want me to erase your data.")


@dataclass(frozen=True)
class ForgetButton(CallbackData, prefix="forget"):
    action: str  # confirm | cancel
    token: str = ""


@router.command("mydata", description=N_("Get a copy of what I store about you"), private_only=True)
async def my_data(ctx: Context) -> Reply:
    data = await privacy.export(ctx.session, ctx.person)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    ctx.audit("data_exported")
    return Reply(
        ctx._("Here is everything I store about you. Send /forget to erase it."),
        attachments=(Attachment("my-data.json", content, "application/json"),),
    )


@router.command("forget", description=N_("Erase what I store about you"), private_only=True)
async def forget(ctx: Context) -> Reply:
    token = secrets.token_urlsafe(9)
    await ctx.conversation.start(FLOW, "confirm", {"token": token}, ttl=CONFIRM_FOR)
    return Reply(
        ctx._(
            "Do you want me to erase everything I store about you: your profile, your questions and "
            "your settings? This cannot be undone."
        ),
        buttons=(
            Button(ctx._("Yes, erase everything"), ForgetButton("confirm", token).pack()),
            Button(ctx._("No, keep my data"), ForgetButton("cancel").pack()),
        ),
    )


@router.step(FLOW, every_message=True)
async def other_message(ctx: Context) -> None:
    """Anything else said after /forget withdraws the question (then it is handled as usual)."""
    if ctx.incoming.button is None or not ctx.incoming.button.startswith(ForgetButton.prefix + ":"):
        await ctx.conversation.finish()


@router.button(ForgetButton, private_only=True)
async def forget_button(ctx: Context, pressed: ForgetButton) -> Reply:
    state = await ctx.conversation.load()
    pending = state is not None and state.flow == FLOW
    expected = ctx.conversation.data.get("token") if pending else None
    if pending:
        await ctx.conversation.finish()
    if pressed.action != "confirm":
        text = ctx._("Nothing was erased.")
        return Reply(text, edit=True, notice=text)
    if not expected or not secrets.compare_digest(str(expected), pressed.token):
        return Reply(ctx._(EXPIRED), edit=True, notice=ctx._(EXPIRED))
    text = ctx._(ERASED)  # in their language, before the language itself is erased
    erasure = privacy.Erasure(ctx.services.outbox, ctx.catalogs, ctx.clock.now())
    await privacy.erase(ctx.session, ctx.person, erasure)
    ctx.audit("person_erased")  # no personal data in the entry: the person no longer exists
    ctx.person_id = None
    return Reply(text, edit=True, notice=text)
