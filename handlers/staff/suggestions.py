"""`/suggestions`: staff decide what a kept staff answer teaches the bot.

Each waiting suggestion shows the question, its language and the staff answer, with: add it to the
topic the bot thought closest, to another topic (form `suggestion`: `topic`, `question`), as a new
topic draft (form `topic_draft`: `topic_id`, `title`, `answer`), or reject it. An accepted example is
answered by the bot at once, here and (within half a minute) on every other instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import suggestions
from bot.domain.people import Permission
from bot.domain.suggestions import SuggestionProblem
from bot.forms import Choice, Field, FieldKind, Form, FormErrors, Submitted
from bot.i18n import N_, language_name
from bot.ids import record_id, row_by_id
from bot.knowledge import KnowledgeBase
from bot.markup import html_to_plain
from bot.messages import Button, Reply
from bot.routing import Router
from bot.signals import JOBS_KNOWLEDGE
from bot.storage.questions import KnowledgeSuggestion, Question

router = Router("staff.suggestions")
EXAMPLE_FORM = "suggestion"
DRAFT_FORM = "topic_draft"
EXCERPT = 200


@dataclass(frozen=True)
class SuggestionButton(CallbackData, prefix="suggestion"):
    action: str  # accept | other | draft | reject
    suggestion: int
    topic: str = ""


def _knowledge(ctx: Context) -> KnowledgeBase:
    if ctx.services.knowledge is None:
        raise RuntimeError("the knowledge base is not loaded")
    return ctx.services.knowledge


def _excerpt(text: str) -> str:
    plain = " ".join(html_to_plain(text).split())
    return plain if len(plain) <= EXCERPT else plain[: EXCERPT - 1] + "…"


async def _guess(ctx: Context, suggestion: KnowledgeSuggestion) -> str | None:
    """The topic the bot found closest when the question was asked (or now)."""
    if suggestion.question_id is not None:
        question = await ctx.session.get(Question, suggestion.question_id)
        if question is not None and question.best_topic in _knowledge(ctx).topics:
            return question.best_topic
    found = _knowledge(ctx).answer(suggestions.example_of(suggestion), suggestion.language)
    best = found.topic or (found.suggestions[0] if found.suggestions else None)
    return best.id if best is not None else None


def _title(ctx: Context, topic_id: str) -> str:
    return _knowledge(ctx).topic(topic_id).text(ctx.language).title


@router.command(
    "suggestions",
    description=N_("Staff answers suggested for the knowledge base"),
    needs=Permission.REVIEW_SUGGESTIONS,
)
async def list_suggestions(ctx: Context) -> list[Reply]:
    waiting = await suggestions.pending(ctx.session)
    if not waiting:
        return [Reply(ctx._("No suggestion is waiting. Staff answers become suggestions from /questions."))]
    replies = [
        Reply(ctx.ngettext("{count} suggestion waiting:", "{count} suggestions waiting:", len(waiting)))
    ]
    for suggestion in waiting:
        guess = await _guess(ctx, suggestion)
        lines = [
            ctx._(
                "Suggestion #{id} ({language})",
                id=suggestion.id,
                language=language_name(suggestion.language, ctx.language),
            ),
            ctx._(
                "Question: {text}",
                text=_excerpt(suggestion.question_text) or ctx._("(erased by the person who asked)"),
            ),
            ctx._("Staff answer: {text}", text=_excerpt(suggestion.answer_text) or "-"),
        ]
        buttons = []
        if guess is not None:
            buttons.append(
                Button(
                    ctx._("Add to “{topic}”", topic=_title(ctx, guess))[:60],
                    SuggestionButton("accept", suggestion.id, guess).pack(),
                )
            )
        buttons += [
            Button(ctx._("Another topic"), SuggestionButton("other", suggestion.id).pack()),
            Button(ctx._("New topic draft"), SuggestionButton("draft", suggestion.id).pack()),
            Button(ctx._("Reject"), SuggestionButton("reject", suggestion.id).pack()),
        ]
        replies.append(Reply("\n".join(lines), buttons=tuple(buttons)))
    return replies


async def example_form(ctx: Context, context: Mapping[str, str]) -> Form:
    knowledge = _knowledge(ctx)
    topics = sorted(
        (Choice(topic.text(ctx.language).title, topic.id) for topic in knowledge.topics.values()),
        key=lambda choice: choice.label,
    )
    form = Form(
        EXAMPLE_FORM,
        ctx._("Add as an example question"),
        (
            Field("topic", ctx._("Topic"), FieldKind.CHOICE, choices=tuple(topics)),
            Field(
                "question",
                ctx._("The question as the bot should learn it"),
                max_length=suggestions.MAX_EXAMPLE,
                hint=ctx._("Remove names and other personal details."),
            ),
        ),
        ctx._("Add it"),
        context=dict(context),
    )
    suggestion = await _suggestion(ctx, context)
    values: dict[str, str] = {}
    if suggestion is not None:
        values["question"] = suggestions.example_of(suggestion)
        guess = context.get("topic") or await _guess(ctx, suggestion)
        if guess:
            values["topic"] = guess
    return form.with_values({k: v for k, v in values.items() if v})


async def draft_form(ctx: Context, context: Mapping[str, str]) -> Form:
    form = Form(
        DRAFT_FORM,
        ctx._("New topic draft"),
        (
            Field(
                "topic_id",
                ctx._("Topic id"),
                max_length=50,
                hint=ctx._("Lowercase letters, digits and _, such as youth_councils"),
            ),
            Field("title", ctx._("Title"), max_length=40),
            Field("answer", ctx._("Answer"), FieldKind.LONG_TEXT, max_length=3000),
        ),
        ctx._("Keep the draft"),
        intro=ctx._(
            "The draft is exported with `content export-accepted` for review; it is not answered until "
            "it is in content/."
        ),
        context=dict(context),
    )
    suggestion = await _suggestion(ctx, context)
    if suggestion is None:
        return form
    return form.with_values(
        {"answer": html_to_plain(suggestion.answer_text)} if suggestion.answer_text else {}
    )


async def _suggestion(ctx: Context, context: Mapping[str, str]) -> KnowledgeSuggestion | None:
    raw = context.get("suggestion", "")
    return await row_by_id(ctx.session, KnowledgeSuggestion, raw)


async def _learned(ctx: Context) -> None:
    """Answer the accepted example from now on: here at once, elsewhere when the job runs."""
    await ctx.session.flush()
    await suggestions.refresh(ctx.session, ctx.services)
    ctx.services.signals.notify_on_commit(ctx.session, JOBS_KNOWLEDGE)


async def _accept(ctx: Context, suggestion_id: int, topic: str, text: str) -> Reply:
    try:
        accepted = await suggestions.accept_example(
            ctx.session, _knowledge(ctx), ctx.person, suggestion_id, topic, text, ctx.clock.now()
        )
    except SuggestionProblem as problem:
        return Reply(ctx._(problem.message, **problem.params))
    await _learned(ctx)
    ctx.audit("suggestion_accepted", suggestion=suggestion_id, topic=topic)
    return Reply(
        ctx._(
            "Added to “{topic}” as an example question in {language}: “{question}”. I answer it from now on.",
            topic=_title(ctx, topic),
            language=language_name(accepted.language, ctx.language),
            question=accepted.example_text,
        )
    )


@router.button(SuggestionButton, needs=Permission.REVIEW_SUGGESTIONS)
async def suggestion_button(ctx: Context, pressed: SuggestionButton) -> Reply:
    context = {"suggestion": str(pressed.suggestion)}
    if pressed.action == "accept":
        suggestion = await ctx.session.get(KnowledgeSuggestion, pressed.suggestion)
        text = suggestions.example_of(suggestion) if suggestion is not None else ""
        return await _accept(ctx, pressed.suggestion, pressed.topic, text)
    if pressed.action == "other":
        return Reply("", form=await example_form(ctx, context))
    if pressed.action == "draft":
        return Reply("", form=await draft_form(ctx, context))
    try:
        await suggestions.reject(ctx.session, ctx.person, pressed.suggestion, ctx.clock.now())
    except SuggestionProblem as problem:
        return Reply(ctx._(problem.message, **problem.params))
    ctx.audit("suggestion_rejected", suggestion=pressed.suggestion)
    return Reply(ctx._("Suggestion #{id} rejected.", id=pressed.suggestion), edit=True)


@router.form(EXAMPLE_FORM, build=example_form, needs=Permission.REVIEW_SUGGESTIONS)
async def example_submitted(ctx: Context, submitted: Submitted) -> Reply:
    raw = submitted.context.get("suggestion", "")
    suggestion_id = record_id(raw)
    if suggestion_id is None:
        return Reply(ctx._(suggestions.NOT_PENDING, id=raw[:20]))
    if not submitted.text("question"):
        raise FormErrors({"question": ctx._(suggestions.NO_TEXT)})
    return await _accept(ctx, suggestion_id, submitted.text("topic"), submitted.text("question"))


@router.form(DRAFT_FORM, build=draft_form, needs=Permission.REVIEW_SUGGESTIONS)
async def draft_submitted(ctx: Context, submitted: Submitted) -> Reply:
    raw = submitted.context.get("suggestion", "")
    suggestion_id = record_id(raw)
    if suggestion_id is None:
        return Reply(ctx._(suggestions.NOT_PENDING, id=raw[:20]))
    try:
        await suggestions.accept_draft(
            ctx.session,
            _knowledge(ctx),
            ctx.person,
            suggestion_id,
            submitted.text("topic_id"),
            submitted.text("title"),
            submitted.text("answer"),
            ctx.clock.now(),
        )
    except SuggestionProblem as problem:
        if problem.message in (suggestions.BAD_TOPIC_ID, suggestions.TOPIC_EXISTS):
            raise FormErrors({"topic_id": ctx._(problem.message, **problem.params)}) from problem
        return Reply(ctx._(problem.message, **problem.params))
    ctx.audit("suggestion_drafted", suggestion=suggestion_id)
    return Reply(
        ctx._(
            "Kept as the draft of topic {topic}. `python run_bot.py content export-accepted` writes it "
            "under content/drafts/ for review.",
            topic=submitted.text("topic_id"),
        )
    )
