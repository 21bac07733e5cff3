"""Questions sent to the team: `/questions` lists them, `/answer <id>` (a form) or a reply to the
question's post answers one, and the answer can be kept as a suggested knowledge-base entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.domain import questions
from bot.domain.people import Permission, name_of, require
from bot.forms import Choice, Field, FieldKind, Form, Submitted
from bot.i18n import N_, language_name
from bot.ids import record_id, row_by_id
from bot.markup import html_to_plain, plain_to_html
from bot.messages import Button, Markup, Reply
from bot.routing import Router
from bot.storage.questions import Question

router = Router("staff.questions")
FORM = "answer"
EXCERPT = 80


@dataclass(frozen=True)
class QuestionButton(CallbackData, prefix="question"):
    action: str  # answer | suggest
    question: int


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


@router.command(
    "questions", description=N_("Questions waiting for the team"), needs=Permission.ANSWER_QUESTIONS
)
async def list_questions(ctx: Context) -> Reply:
    waiting = await questions.waiting(ctx.session)
    if not waiting:
        return Reply(ctx._("No question is waiting for an answer."))
    lines = [ctx._("Questions waiting for an answer, oldest first:")]
    buttons = []
    for question, person, city in waiting:
        lines.append(
            f"#{question.id} {name_of(person)} ({questions.city_name(city, ctx._('no city'))}), "
            f"{question.language}: {_excerpt(question.text)}"
        )
        buttons.append(
            Button(ctx._("Answer #{id}", id=question.id), QuestionButton("answer", question.id).pack())
        )
    return Reply("\n".join(lines), buttons=tuple(buttons[:20]))


async def answer_form(ctx: Context, context: Mapping[str, str]) -> Form:
    waiting = await questions.waiting(ctx.session, limit=100, answered_too=True)
    options = tuple(
        Choice(f"#{q.id} {name_of(p)}: {_excerpt(q.text)}"[:75], str(q.id)) for q, p, _city in waiting
    )
    wanted = context.get("question", "")
    if wanted not in {c.value for c in options}:
        question = await row_by_id(ctx.session, Question, wanted)
        if question is not None:  # answered already: a second answer is allowed
            options += (Choice(f"#{question.id}: {_excerpt(question.text)}"[:75], str(question.id)),)
    return Form(
        FORM,
        ctx._("Answer a question"),
        (
            Field("question", ctx._("Question"), FieldKind.CHOICE, choices=options),
            Field(
                "text",
                ctx._("Your answer"),
                FieldKind.LONG_TEXT,
                rich=True,
                max_length=12000,
                hint=ctx._("It goes to the focal point in this form, marked as coming from the team."),
            ),
        ),
        ctx._("Send the answer"),
        context=dict(context),
    )


async def _open_answer(ctx: Context, question_id: int) -> Reply:
    question = await ctx.session.get(Question, question_id)
    if question is None:
        return Reply(ctx._("There is no question #{id}.", id=question_id))
    form = await answer_form(ctx, {"question": str(question_id)})
    language = language_name(question.language, ctx.language)
    return Reply(
        ctx._("Question #{id} ({language}): {text}", id=question.id, language=language, text=question.text),
        form=form.with_values({"question": str(question_id)}),
    )


@router.command(
    "answer", description=N_("Answer a question: /answer <number>"), needs=Permission.ANSWER_QUESTIONS
)
async def answer_command(ctx: Context) -> Reply:
    raw = ctx.incoming.args.strip().lstrip("#")
    if (question_id := record_id(raw)) is not None:
        return await _open_answer(ctx, question_id)
    form = await answer_form(ctx, {})
    return Reply(ctx._("Which question do you want to answer?"), form=form)


@router.form(FORM, build=answer_form, needs=Permission.ANSWER_QUESTIONS)
async def answer_submitted(ctx: Context, submitted: Submitted) -> Reply:
    question = await row_by_id(ctx.session, Question, submitted.text("question"))
    assert question is not None  # a choice of the form
    answered = await questions.answer(
        ctx.session, ctx.services.outbox, ctx.catalogs, question, ctx.person,
        answer_html=submitted.text("text"), now=ctx.clock.now(),
    )  # fmt: skip
    return _answered_reply(ctx, answered)


def _answered_reply(ctx: Context, answered: questions.Answered | None) -> Reply:
    if answered is None:
        return Reply(ctx._("This person cannot be reached any more: the answer was not sent."))
    if not answered.new:
        return Reply(ctx._("That answer was already sent."))
    text = ctx._(
        "Sent to {person} ({city}) on {platform}, marked as coming from the team. "
        "The question is marked answered.",
        person=answered.person, city=answered.city, platform=answered.platform,
    )  # fmt: skip
    suggest = Button(
        ctx._("Suggest for the knowledge base"), QuestionButton("suggest", answered.question_id).pack()
    )
    return Reply(text, buttons=(suggest,))


@router.reply
async def reply_to_post(ctx: Context) -> Reply | None:
    """A reply to a question's staff post (a Slack thread, a Telegram reply) answers the question."""
    incoming = ctx.incoming
    assert incoming.reply_to is not None
    question = await questions.question_for_post(
        ctx.session,
        incoming.platform,
        incoming.chat_id,
        incoming.reply_to,
        incoming.reply_to_text,
        ctx.catalogs,
    )
    if question is None:
        return None
    require(ctx.person, Permission.ANSWER_QUESTIONS)
    text = incoming.text or ""
    answer_html = text if incoming.markup is Markup.HTML else plain_to_html(text)
    if not html_to_plain(answer_html).strip():
        return None
    answered = await questions.answer(
        ctx.session, ctx.services.outbox, ctx.catalogs, question, ctx.person,
        answer_html=answer_html, now=ctx.clock.now(), ref=incoming.message_id,
    )  # fmt: skip
    if answered is not None and not answered.new:
        return Reply("")  # the platform delivered the same message again: nothing more to say
    ctx.audit(
        "command:answer", permission=Permission.ANSWER_QUESTIONS.value, outcome="done", question=question.id
    )
    return _answered_reply(ctx, answered)


@router.button(QuestionButton, needs=Permission.ANSWER_QUESTIONS)
async def question_button(ctx: Context, pressed: QuestionButton) -> Reply:
    if pressed.action == "answer":
        return await _open_answer(ctx, pressed.question)
    suggestion = await questions.suggest_entry(ctx.session, pressed.question, ctx.person, ctx.clock.now())
    if suggestion is None:
        return Reply(ctx._("There is no answer to suggest for this question yet."))
    return Reply(
        ctx._("Kept for review as suggested knowledge-base entry #{id} (by {staff}).", id=suggestion.id,
              staff=name_of(ctx.person)),
    )  # fmt: skip
