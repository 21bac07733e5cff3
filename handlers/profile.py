"""`/profile`: a focal point's name and city, asked step by step (state kept in the database)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.context import Context
from bot.i18n import N_
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.people import City
from handlers.buttons import ProfileButton

router = Router("profile")
FLOW = "profile"
MAX_NAME = 100


def _summary(ctx: Context, city: City | None) -> str:
    unknown = ctx._("not set")
    return ctx._(
        "Name: {name}\nCity: {city}",
        name=ctx.person.display_name or unknown,
        city=f"{city.name}" if city else unknown,
    )


@router.command("profile", description=N_("See and edit your profile"), private_only=True)
async def show_profile(ctx: Context) -> Reply:
    city = await ctx.session.get(City, ctx.person.city_id) if ctx.person.city_id else None
    return Reply(
        ctx._("Your profile:") + "\n" + _summary(ctx, city),
        buttons=(Button(ctx._("Edit my profile"), ProfileButton("start").pack()),),
    )


@router.button(ProfileButton, private_only=True)
async def start_editing(ctx: Context, pressed: ProfileButton) -> Reply:
    await ctx.conversation.start(FLOW, "name")
    return Reply(ctx._("What name should other focal points see? (Send /cancel to stop.)"))


@router.step(FLOW)
async def profile_step(ctx: Context) -> Reply | None:
    text = (ctx.incoming.text or "").strip()
    if ctx.incoming.text is None:
        return None  # a button from another menu: let ordinary routing handle it
    if ctx.conversation.step == "name":
        if len(text) > MAX_NAME:
            return Reply(ctx._("Please use at most {limit} characters.", limit=MAX_NAME))
        await ctx.conversation.advance("city", name=text)
        return Reply(ctx._("Which city or local authority do you represent?"))
    if len(text) > 200:
        return Reply(ctx._("Please use at most {limit} characters.", limit=200))
    city = (
        await ctx.session.execute(select(City).where(func.lower(City.name) == text.lower()).limit(1))
    ).scalar_one_or_none()
    if city is None:
        city = City(name=text, created_at=ctx.clock.now())
        ctx.session.add(city)
        await ctx.session.flush()
    ctx.person.display_name = str(ctx.conversation.data.get("name", ctx.person.display_name))
    ctx.person.city_id = city.id
    await ctx.conversation.finish()
    return Reply(ctx._("Saved. Your profile:") + "\n" + _summary(ctx, city))
