"""Free text: answered from the knowledge base in the person's language, or honestly not.

Small talk (greetings, thanks, "who are you?", a bare link or emoji: `bot.smalltalk`) gets a short
reply in kind and the main menu. A question the network does not cover (the weather, football) gets
"I can't help with that" and the menu. Neither is kept for staff. A confident match gets the topic's
answer, its links and related topics. Below the threshold the bot says it is not sure, offers the
three closest topics, keeps the question for staff, and offers to send it to the team.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.content import Topic
from bot.context import Context
from bot.domain import questions as handoff
from bot.domain.people import Permission
from bot.i18n import N_, language_name
from bot.knowledge import KnowledgeBase
from bot.messages import Button, Reply
from bot.routing import Router
from bot.storage.questions import Question, QuestionStatus
from handlers.buttons import LanguageButton, TopicButton
from handlers.peers import directory_reply
from handlers.start import MenuButton, main_menu

router = Router("questions")
APPLY_TOPICS = frozenset({"how_to_join", "who_can_join", "cost", "membership"})  # answers that lead to /apply
MIN_LETTERS = 3  # fewer letters than this ("ok", "👍", "?") is not a question worth keeping
TOO_SHORT = N_(
    "Write your question in a few words and I will do my best to answer. "
    "Send /help to see what else I can do."
)
OFF_TOPIC = N_(
    "I can't help with that: I only answer questions about the Strong Cities Network. Here is what I can do:"
)
UNCONFIRMED = N_("This has not been confirmed yet: please check it with the Management Unit.")


@dataclass(frozen=True)
class AskButton(CallbackData, prefix="ask"):
    action: str  # forward
    question: int


def _knowledge(ctx: Context) -> KnowledgeBase:
    if ctx.services.knowledge is None:
        raise RuntimeError("the knowledge base is not loaded")
    return ctx.services.knowledge


def topic_reply(ctx: Context, topic: Topic) -> Reply:
    """A topic's answer in the reader's language (English where it is not written in theirs)."""
    language = ctx.language
    text = topic.text(language)
    parts = [text.answer.strip()]
    if not topic.confirmed:
        parts.append(ctx._(UNCONFIRMED))
    if topic.links:
        lines = [ctx._("More information:")]
        lines += [f"• {link.title(language)}: {link.url}" for link in topic.links]
        parts.append("\n".join(lines))
    if not topic.has_language(language):
        parts.append(
            ctx._(
                "This answer is not yet written in {language}, so it is in English.",
                language=language_name(language, capitalize=False),
            )
        )
    knowledge = _knowledge(ctx)
    buttons = [
        Button(knowledge.topic(related).text(language).title, TopicButton(related).pack())
        for related in topic.related
        if related in knowledge.topics
    ][:3]
    if topic.id in APPLY_TOPICS and ctx.can(Permission.APPLY) and ctx.person.city_id is None:
        buttons.insert(0, Button(ctx._("Apply to join"), MenuButton("apply").pack()))
    return Reply("\n\n".join(parts), buttons=tuple(buttons) + _language_buttons(ctx))


def _language_buttons(ctx: Context) -> tuple[Button, ...]:
    if ctx.language_offer is None:
        return ()
    offered = ctx.catalogs.translator(ctx.language_offer)
    label = offered.gettext(
        "Always answer me in {language}", language=language_name(ctx.language_offer, capitalize=False)
    )
    return (Button(label, LanguageButton("set", ctx.language_offer).pack()),)


def _unsupported_note(ctx: Context) -> str | None:
    if ctx.unsupported_language is None:
        return None
    return ctx._(
        "I do not speak {language} yet, so I answered in English. Send /language to choose another language.",
        language=language_name(ctx.unsupported_language, ctx.language, capitalize=False),
    )


@router.text
async def answer_question(ctx: Context) -> list[Reply]:
    question = (ctx.incoming.text or "").strip()
    talk = ctx.services.smalltalk
    intent = talk.intent(question)
    if intent is not None:
        return [Reply(talk.reply(intent, ctx.language), buttons=main_menu(ctx))]
    if sum(ch.isalpha() for ch in question) < MIN_LETTERS:
        return [Reply(ctx._(TOO_SHORT))]
    peers = await directory_reply(ctx, question)
    if peers is not None:
        return [peers]
    answer = _knowledge(ctx).answer(question, ctx.language)
    note = _unsupported_note(ctx)
    if talk.off_topic(question, answer):
        text = ctx._(OFF_TOPIC)
        return [Reply(f"{note}\n\n{text}" if note else text, buttons=main_menu(ctx))]
    if answer.topic is not None:
        reply = topic_reply(ctx, answer.topic)
        if note:
            reply = Reply(f"{note}\n\n{reply.text}", buttons=reply.buttons)
        return [reply]
    stored = Question(
        person_id=ctx.person.id,
        language=ctx.language,
        text=question[:4096],
        best_topic=answer.suggestions[0].id if answer.suggestions else None,
        score=round(answer.score, 3),
        status=QuestionStatus.OPEN.value,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(stored)
    await ctx.session.flush()
    lines = [ctx._("I am not sure I understood your question.")]
    if answer.suggestions:
        lines.append(ctx._("Is it about one of these topics?"))
    lines.append(ctx._("You can also send your question to the team, who will answer you here."))
    if note:
        lines.insert(0, note)
    buttons = tuple(
        Button(topic.text(ctx.language).title, TopicButton(topic.id).pack())
        for topic in answer.suggestions[:3]
    )
    buttons += (Button(ctx._("Send my question to the team"), AskButton("forward", stored.id).pack()),)
    return [Reply("\n".join(lines), buttons=buttons + _language_buttons(ctx))]


@router.button(TopicButton)
async def show_topic(ctx: Context, pressed: TopicButton) -> Reply:
    knowledge = _knowledge(ctx)
    topic_id = pressed.topic
    if topic_id not in knowledge.topics:
        return Reply(ctx._("That topic is no longer available. Please ask your question again."))
    return topic_reply(ctx, knowledge.topic(topic_id))


@router.button(AskButton, private_only=True)
async def forward_question(ctx: Context, pressed: AskButton) -> Reply:
    question = await ctx.session.get(Question, pressed.question)
    if pressed.action != "forward" or question is None or question.person_id != ctx.person.id:
        return Reply(ctx._("That question can no longer be sent. Please write it again."))
    if question.status == QuestionStatus.OPEN.value:
        question.status = QuestionStatus.FORWARDED.value
        question.forwarded_at = ctx.clock.now()
        ctx.audit("question_forwarded", question=question.id)
        await handoff.notify_staff(
            ctx.session, ctx.services.outbox, ctx.catalogs, question, ctx.services.staff_channels
        )
    text = ctx._("Thank you. Your question is with the team; their answer will come to you here.")
    return Reply(text, edit=True, notice=text)
