"""`/profile`: a focal point's name as other focal points see it, and the city the registry says is theirs.

The city is never typed: it is the member city the person was approved or invited for.
"""

from __future__ import annotations

from bot.context import Context
from bot.domain import cities
from bot.domain.people import Permission
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.people import City
from handlers.buttons import ProfileButton

router = Router("profile")
FLOW = "profile"
MAX_NAME = 100


async def _summary(ctx: Context) -> str:
    city = await ctx.session.get(City, ctx.person.city_id) if ctx.person.city_id else None
    unknown = ctx._("not set")
    name = ctx._("Name: {name}", name=ctx.person.display_name or unknown)
    where = ctx._("City: {city}", city=cities.label(city, ctx.language) if city else unknown)
    return f"{name}\n{where}"


@router.command(
    "profile", description=N_("See and edit your profile"), private_only=True, needs=Permission.PROFILE
)
async def show_profile(ctx: Context) -> Reply:
    return Reply(
        ctx._("Your profile:") + "\n" + await _summary(ctx),
        buttons=(Button(ctx._("Edit my profile"), ProfileButton("start").pack()),),
    )


@router.button(ProfileButton, private_only=True, needs=Permission.PROFILE)
async def start_editing(ctx: Context, pressed: ProfileButton) -> Reply:
    await ctx.conversation.start(FLOW, "name")
    return Reply(ctx._("What name should other focal points see? (Send /cancel to stop.)"))


@router.step(FLOW)
async def profile_step(ctx: Context) -> Reply | None:
    text = (ctx.incoming.text or "").strip()
    if ctx.incoming.text is None:
        return None  # a button from another menu: let ordinary routing handle it
    if len(text) > MAX_NAME:
        return Reply(ctx._("Please use at most {limit} characters.", limit=MAX_NAME))
    ctx.person.display_name = text
    await ctx.conversation.finish()
    return Reply(ctx._("Saved. Your profile:") + "\n" + await _summary(ctx))
