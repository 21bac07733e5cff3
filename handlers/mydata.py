"""`/mydata` exports what the bot stores about a person; `/forget` erases it, after a confirmation."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select, update

from bot.context import Context
from bot.delivery.outbox import forget_recipient
from bot.i18n import N_
from bot.messages import Attachment, Button, Reply
from bot.routing import Router
from bot.storage.conversation import ConversationState
from bot.storage.people import City, PlatformIdentity
from bot.storage.questions import KnowledgeSuggestion, Question

router = Router("mydata")
ERASED = N_("Done. Everything I stored about you has been erased. If you write again, I will start afresh.")


async def export_person(ctx: Context) -> dict[str, Any]:
    """Everything stored about the person, as plain JSON-ready data."""
    person = ctx.person
    identities = (
        await ctx.session.scalars(select(PlatformIdentity).where(PlatformIdentity.person_id == person.id))
    ).all()
    city = await ctx.session.get(City, person.city_id) if person.city_id else None
    questions = (
        await ctx.session.scalars(
            select(Question).where(Question.person_id == person.id).order_by(Question.id)
        )
    ).all()
    return {
        "name": person.display_name,
        "role": person.role,
        "language": person.language,
        "language_chosen_explicitly": person.language_explicit,
        "time_zone": person.time_zone,
        "city": {"name": city.name, "country": city.country, "region": city.region} if city else None,
        "first_contact": person.created_at.isoformat(),
        "last_seen": person.last_seen_at.isoformat(),
        "accounts": [{"platform": i.platform, "id": i.external_id} for i in identities],
        "questions": [
            {
                "asked_at": q.created_at.isoformat(),
                "text": q.text,
                "status": q.status,
                "answer": q.answer_text,
            }
            for q in questions
        ],
    }


@router.command("mydata", description=N_("Get a copy of what I store about you"), private_only=True)
async def my_data(ctx: Context) -> Reply:
    data = await export_person(ctx)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    ctx.audit("data_exported")
    return Reply(
        ctx._("Here is everything I store about you. Send /forget to erase it."),
        attachments=(Attachment("my-data.json", content, "application/json"),),
    )


@router.command("forget", description=N_("Erase what I store about you"), private_only=True)
async def forget(ctx: Context) -> Reply:
    return Reply(
        ctx._(
            "Do you want me to erase everything I store about you: your profile, your questions and "
            "your settings? This cannot be undone."
        ),
        buttons=(
            Button(ctx._("Yes, erase everything"), "forget:confirm"),
            Button(ctx._("No, keep my data"), "forget:cancel"),
        ),
    )


@router.button("forget", private_only=True)
async def forget_button(ctx: Context) -> Reply:
    if ctx.button_argument != "confirm":
        text = ctx._("Nothing was erased.")
        return Reply(text, edit=True, notice=text)
    text = ctx._(ERASED)  # in their language, before the language itself is erased
    person_id = ctx.person.id
    await erase_person(ctx, person_id)
    ctx.audit("person_erased")  # no personal data in the entry: the person no longer exists
    ctx.person_id = None
    return Reply(text, edit=True, notice=text)


async def erase_person(ctx: Context, person_id: int) -> None:
    """Delete the person and everything that hangs off them: identities, forms, questions, the
    messages queued for them and the text of those already sent, and their words in staff suggestions."""
    now = ctx.clock.now()
    identities = (
        await ctx.session.scalars(select(PlatformIdentity).where(PlatformIdentity.person_id == person_id))
    ).all()
    for identity in identities:
        await forget_recipient(ctx.session, identity.platform, identity.chat_id, now)
    their_questions = select(Question.id).where(Question.person_id == person_id)
    await ctx.session.execute(
        update(KnowledgeSuggestion)
        .where(KnowledgeSuggestion.question_id.in_(their_questions))
        .values(question_text="")
    )
    for table in (ConversationState, Question, PlatformIdentity):
        await ctx.session.execute(delete(table).where(table.person_id == person_id))
    await ctx.session.delete(ctx.person)
    await ctx.session.flush()
