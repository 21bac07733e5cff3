"""Forms in a conversation: submissions checked in the core, and a field-by-field walk without modals.

`submit` is the one way a form reaches its handler: whatever the platform, the values are checked
against the form as it is built for this person now (`bot.forms.check_submission`), and a rejected
value comes back as the same form with the error on that field and everything typed kept.

`present` runs over a handler's replies. A reply that carries a form, on a platform that shows whole
forms (`Incoming.native_forms`), is left as it is and the form's context is remembered (so a
submission that does not repeat it still knows, say, which event it edits). Elsewhere the form
becomes a walk kept in the conversation state, so a restart or a day away loses nothing: each field is
asked in turn (choices as buttons, or typed and matched when there are many), a prefilled form opens
on a summary where any field can be changed, and the last answer submits it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rapidfuzz import fuzz, process

from bot.callbacks import CallbackData
from bot.context import Context
from bot.forms import (
    Field,
    FieldKind,
    Form,
    FormErrors,
    FormValue,
    Submitted,
    check_submission,
    check_value,
    shown_value,
)
from bot.i18n import N_
from bot.markup import html_to_plain, plain_to_html
from bot.messages import Button, Markup, Reply
from bot.routing import FormRoute, Router, as_replies
from bot.textnorm import fold

FLOW = "form"
MAX_CHOICE_BUTTONS = 12
MATCH_CUTOFF = 75.0

FIX_FIELDS = N_("Please correct the fields marked below; everything else you typed is kept.")
UNKNOWN_FORM = N_("I do not know that form. Send /help to see what I can do.")
FORM_CLOSED = N_("That form is no longer open. Send the command again to start it afresh.")
OPTIONAL = N_("(optional: press Skip or send - to leave it empty)")
PRESS_OR_TYPE = N_("Press one of the buttons, or type your answer.")
TYPE_TO_FIND = N_("Type the name and I will find it.")
SEVERAL_MATCHES = N_("Several options match. Which one do you mean?")
NO_MATCH = N_("I could not find that among the options. Please try again.")
CHOOSE_SEVERAL = N_("Press each one that applies, then Done.")
SUMMARY = N_("Please check your answers. Change any of them, or submit.")
CURRENT = N_("Now: {value}")
EMPTY = N_("(empty)")
SKIP = N_("Skip")
DONE = N_("Done")
SUBMIT = N_("Submit")
CANCEL = N_("Cancel")
CHANGE = N_("Change: {field}")
STOPPED = N_("Stopped. Nothing was changed.")
NOTHING_TO_CANCEL = N_("There is nothing to cancel.")
STEP_OF = N_("{title} ({step} of {total})")

router = Router("forms")


@dataclass(frozen=True)
class FormStep(CallbackData, prefix="form"):
    """A button of a form walk: `action` on field number `field` (and choice number `choice`)."""

    form: str
    action: str  # choose | toggle | done | skip | edit | submit | cancel
    field: int
    choice: int


# ---- submissions ------------------------------------------------------------------------------------
async def submit(
    ctx: Context,
    route: FormRoute,
    raw: Mapping[str, object],
    context: Mapping[str, str],
    markup: Markup = Markup.PLAIN,
) -> tuple[list[Reply], Form | None]:
    """Check `raw` against the form and hand it to its handler. Returns the replies, and the form with
    its errors when the submission was rejected (nothing of it is stored then). Rich fields typed as
    plain text (`markup`) are escaped into safe HTML first."""
    form = await route.build(ctx, dict(context))
    form = replace(form, context={**form.context, **context})
    if markup is Markup.PLAIN:
        raw = {
            key: plain_to_html(value) if isinstance(value, str) and _is_rich(form, key) else value
            for key, value in raw.items()
        }
    values, errors = check_submission(form, raw, ctx.t)
    if not errors:
        try:
            async with ctx.session.begin_nested():
                result = await route.submit(ctx, Submitted(form, values))
        except FormErrors as rejected:
            errors = rejected.errors
        else:
            return as_replies(result), None
    failed = form.with_errors(errors, raw)
    return [Reply(ctx._(FIX_FIELDS), form=failed)], failed


async def handle_submission(ctx: Context) -> list[Reply]:
    """An `Incoming` that submits a whole form (a modal, a scripted console line)."""
    submission = ctx.incoming.form
    assert submission is not None
    route = ctx.services.routes.forms.get(submission.form_id)
    if route is None:
        return [Reply(ctx._(UNKNOWN_FORM))]
    context = dict(submission.context)
    state = await ctx.conversation.load()
    pending = state is not None and state.flow == FLOW and state.data.get("form") == submission.form_id
    if not context and pending:
        context = dict(ctx.conversation.data.get("context") or {})
    replies, failed = await submit(ctx, route, submission.values, context, ctx.incoming.markup)
    still_open = ctx.conversation.flow == FLOW and ctx.conversation.data.get("form") == submission.form_id
    if failed is None and pending and still_open:
        await ctx.conversation.finish()
    return await present(ctx, replies)


# ---- presenting forms -------------------------------------------------------------------------------
async def present(ctx: Context, replies: Sequence[Reply]) -> list[Reply]:
    """Replies as this platform can show them: whole forms where it can, else the first step of a walk."""
    shown: list[Reply] = []
    for reply in replies:
        if reply.form is None:
            shown.append(reply)
            continue
        if ctx.incoming.native_forms:
            await ctx.conversation.start(
                FLOW, "native", {"form": reply.form.id, "context": dict(reply.form.context), "native": True}
            )
            shown.append(reply)
            continue
        shown += await _begin_walk(ctx, reply)
    return shown


async def _begin_walk(ctx: Context, reply: Reply) -> list[Reply]:
    form = reply.form
    assert form is not None
    values = {key: _stored(value) for key, value in form.values.items()}
    # Prefilled and valid (an edit): straight to the summary. A fresh form is asked field by field,
    # even when every field is optional.
    complete = bool(form.values) and all(
        check_value(f, form.values.get(f.id), ctx.t)[1] is None for f in form.fields
    )
    errored = [f.id for f in form.fields if f.id in form.errors]
    visited = [f.id for f in form.fields if f.id not in form.errors and (complete or f.id in form.values)]
    data: dict[str, Any] = {
        "form": form.id, "context": dict(form.context), "values": values, "visited": visited,
        "review": complete and not errored, "errors": dict(form.errors),
    }  # fmt: skip
    await ctx.conversation.start(FLOW, "walk", data)
    steps = await _next(ctx, form, first=True)
    if reply.text and steps:  # what the handler said, then the first question, in one message
        first = steps[0]
        steps[0] = Reply(f"{reply.text}\n\n{first.text}", buttons=first.buttons, markup=first.markup)
    return steps


def _is_rich(form: Form, field_id: str) -> bool:
    found = form.field(field_id)
    return found is not None and found.rich


def _stored(value: FormValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _value(form_field: Field, stored: Any) -> FormValue:
    if form_field.kind is FieldKind.MULTI_CHOICE:
        return tuple(stored or ())
    return "" if stored is None else str(stored)


async def _current_form(ctx: Context) -> tuple[FormRoute, Form] | None:
    data = ctx.conversation.data
    route = ctx.services.routes.forms.get(str(data.get("form")))
    if route is None:
        return None
    context = dict(data.get("context") or {})
    form = await route.build(ctx, context)
    return route, replace(form, context={**form.context, **context})


async def _next(ctx: Context, form: Form, *, first: bool = False) -> list[Reply]:
    """Ask the next field that still needs an answer; then the summary, or the submission."""
    data = ctx.conversation.data
    visited = set(data.get("visited") or ())
    pending = [f for f in form.fields if f.id not in visited]
    if pending:
        return [_ask(ctx, form, pending[0], first=first)]
    if data.get("review"):
        return [_summary(ctx, form)]
    return await _submit_walk(ctx, form)


def _ask(ctx: Context, form: Form, form_field: Field, *, first: bool = False) -> Reply:
    data = ctx.conversation.data
    index = next(i for i, f in enumerate(form.fields) if f.id == form_field.id)
    lines = []
    if first:
        lines.append(ctx._(STEP_OF, title=form.title, step=index + 1, total=len(form.fields)))
        if form.intro:
            lines.append(form.intro)
    error = (data.get("errors") or {}).get(form_field.id)
    if error:
        lines.append(f"⚠ {error}")
    lines.append(form_field.label + ("" if form_field.required else " " + ctx._(OPTIONAL)))
    if form_field.hint:
        lines.append(form_field.hint)
    current = (data.get("values") or {}).get(form_field.id)
    if current:
        lines.append(ctx._(CURRENT, value=_shown(form_field, _value(form_field, current))))
    buttons: list[Button] = []
    if form_field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        if len(form_field.choices) <= MAX_CHOICE_BUTTONS:
            chosen = set(_value(form_field, current)) if form_field.kind is FieldKind.MULTI_CHOICE else set()
            action = "toggle" if form_field.kind is FieldKind.MULTI_CHOICE else "choose"
            for number, choice in enumerate(form_field.choices):
                mark = "✓ " if choice.value in chosen else ""
                buttons.append(Button(mark + choice.label, FormStep(form.id, action, index, number).pack()))
            if form_field.kind is FieldKind.MULTI_CHOICE:
                lines.append(ctx._(CHOOSE_SEVERAL))
                buttons.append(Button(ctx._(DONE), FormStep(form.id, "done", index, 0).pack()))
            else:
                lines.append(ctx._(PRESS_OR_TYPE))
        else:
            lines.append(ctx._(TYPE_TO_FIND))
    if not form_field.required:
        buttons.append(Button(ctx._(SKIP), FormStep(form.id, "skip", index, 0).pack()))
    buttons.append(Button(ctx._(CANCEL), FormStep(form.id, "cancel", index, 0).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


def _summary(ctx: Context, form: Form) -> Reply:
    values = ctx.conversation.data.get("values") or {}
    lines = [form.title, ctx._(SUMMARY), ""]
    buttons = []
    for index, form_field in enumerate(form.fields):
        value = _value(form_field, values.get(form_field.id))
        lines.append(f"{form_field.label}: {_shown(form_field, value) or ctx._(EMPTY)}")
        buttons.append(
            Button(ctx._(CHANGE, field=form_field.label)[:60], FormStep(form.id, "edit", index, 0).pack())
        )
    buttons.append(Button(form.submit, FormStep(form.id, "submit", 0, 0).pack()))
    buttons.append(Button(ctx._(CANCEL), FormStep(form.id, "cancel", 0, 0).pack()))
    return Reply("\n".join(lines), buttons=tuple(buttons))


async def _submit_walk(ctx: Context, form: Form) -> list[Reply]:
    route = ctx.services.routes.forms[form.id]
    data = ctx.conversation.data
    values = {f.id: _value(f, (data.get("values") or {}).get(f.id)) for f in form.fields}
    await ctx.conversation.finish()
    replies, failed = await submit(ctx, route, values, dict(data.get("context") or {}), Markup.HTML)
    if failed is None:
        return await present(ctx, replies)
    errors = dict(failed.errors)
    await ctx.conversation.start(FLOW, "walk", {
        **data, "errors": errors, "review": False,
        "visited": [f.id for f in form.fields if f.id not in errors],
    })  # fmt: skip
    return await _next(ctx, form)


async def _accept(ctx: Context, form: Form, form_field: Field, value: FormValue) -> list[Reply]:
    """Keep a field's value (already checked) and move on."""
    data = ctx.conversation.data
    values = {**(data.get("values") or {}), form_field.id: _stored(value)}
    visited = list(dict.fromkeys([*(data.get("visited") or ()), form_field.id]))
    errors = {k: v for k, v in (data.get("errors") or {}).items() if k != form_field.id}
    await ctx.conversation.advance("walk", values=values, visited=visited, errors=errors)
    return await _next(ctx, form)


async def _reject(ctx: Context, form: Form, form_field: Field, message: str) -> list[Reply]:
    errors = {**(ctx.conversation.data.get("errors") or {}), form_field.id: message}
    await ctx.conversation.advance("walk", errors=errors)
    return [_ask(ctx, form, form_field)]


def _shown(form_field: Field, value: FormValue) -> str:
    shown = shown_value(form_field, value)
    return html_to_plain(shown) if form_field.rich else shown


def match_choice(form_field: Field, typed: str) -> list[str]:
    """Choice values whose label (or value) matches what was typed: exact, then prefix, then fuzzy."""
    wanted = fold(typed).strip()
    if not wanted:
        return []
    labels = {choice.value: fold(choice.label) for choice in form_field.choices}
    exact = [v for v, label in labels.items() if label == wanted or fold(v) == wanted]
    if exact:
        return exact[:1]
    starts = [v for v, label in labels.items() if label.startswith(wanted) or wanted in label.split()]
    if starts:
        return starts
    found = process.extract(wanted, labels, scorer=fuzz.WRatio, score_cutoff=MATCH_CUTOFF, limit=5)
    return [value for _label, _score, value in found]


@router.step(FLOW)
async def walk_step(ctx: Context) -> list[Reply] | None:
    """Typed answers while a form walk is pending (buttons come through `form_button`)."""
    if ctx.incoming.text is None or ctx.conversation.data.get("native"):
        return None
    current = await _current_form(ctx)
    if current is None:
        await ctx.conversation.finish()
        return None
    _route, form = current
    visited = set(ctx.conversation.data.get("visited") or ())
    pending = [f for f in form.fields if f.id not in visited]
    if not pending:
        return [_summary(ctx, form)] if ctx.conversation.data.get("review") else await _submit_walk(ctx, form)
    form_field = pending[0]
    typed = ctx.incoming.text.strip()
    if not form_field.required and typed in ("-", "—", "–"):
        return await _accept(ctx, form, form_field, () if form_field.kind is FieldKind.MULTI_CHOICE else "")
    if form_field.kind is FieldKind.CHOICE:
        found = match_choice(form_field, typed)
        if len(found) != 1:
            return [_candidates(ctx, form, form_field, found)]
        typed = found[0]
    elif form_field.kind is FieldKind.MULTI_CHOICE:
        picked = [match_choice(form_field, part) for part in typed.split(",")]
        if any(len(found) != 1 for found in picked):
            return await _reject(ctx, form, form_field, ctx._(NO_MATCH))
        value, problem = check_value(form_field, [found[0] for found in picked], ctx.t)
        if problem:
            return await _reject(ctx, form, form_field, problem)
        return await _accept(ctx, form, form_field, value)
    if form_field.rich:
        typed = plain_to_html(typed)
    value, problem = check_value(form_field, typed, ctx.t)
    if problem:
        return await _reject(ctx, form, form_field, problem)
    return await _accept(ctx, form, form_field, value)


def _candidates(ctx: Context, form: Form, form_field: Field, found: list[str]) -> Reply:
    index = next(i for i, f in enumerate(form.fields) if f.id == form_field.id)
    if not found:
        return Reply(
            ctx._(NO_MATCH), buttons=(Button(ctx._(CANCEL), FormStep(form.id, "cancel", index, 0).pack()),)
        )
    positions = {choice.value: n for n, choice in enumerate(form_field.choices)}
    buttons = tuple(
        Button(form_field.label_of(value), FormStep(form.id, "choose", index, positions[value]).pack())
        for value in found[:MAX_CHOICE_BUTTONS]
    )
    return Reply(ctx._(SEVERAL_MATCHES), buttons=buttons)


@router.button(FormStep)
async def form_button(ctx: Context, step: FormStep) -> list[Reply]:
    state = await ctx.conversation.load()
    if state is None or state.flow != FLOW or ctx.conversation.data.get("form") != step.form:
        return [Reply(ctx._(FORM_CLOSED))]
    if step.action == "cancel":
        await ctx.conversation.finish()
        return [Reply(ctx._(STOPPED))]
    current = await _current_form(ctx)
    if current is None or not 0 <= step.field < len(current[1].fields):
        await ctx.conversation.finish()
        return [Reply(ctx._(FORM_CLOSED))]
    _route, form = current
    form_field = form.fields[step.field]
    data = ctx.conversation.data
    if step.action == "submit":
        return await _submit_walk(ctx, form)
    if step.action == "edit":
        visited = [v for v in (data.get("visited") or ()) if v != form_field.id]
        await ctx.conversation.advance("walk", visited=visited, review=True)
        return [_ask(ctx, form, form_field)]
    if step.action == "skip" and not form_field.required:
        return await _accept(ctx, form, form_field, () if form_field.kind is FieldKind.MULTI_CHOICE else "")
    if not 0 <= step.choice < max(1, len(form_field.choices)):
        return [Reply(ctx._(FORM_CLOSED))]
    if step.action == "choose" and form_field.kind is FieldKind.CHOICE:
        return await _accept(ctx, form, form_field, form_field.choices[step.choice].value)
    if step.action == "toggle" and form_field.kind is FieldKind.MULTI_CHOICE:
        chosen = list(_value(form_field, (data.get("values") or {}).get(form_field.id)))
        toggled = form_field.choices[step.choice].value
        chosen = [c for c in chosen if c != toggled] if toggled in chosen else [*chosen, toggled]
        await ctx.conversation.advance("walk", values={**(data.get("values") or {}), form_field.id: chosen})
        return [_ask(ctx, form, form_field)]
    if step.action == "done" and form_field.kind is FieldKind.MULTI_CHOICE:
        value, problem = check_value(
            form_field, _value(form_field, (data.get("values") or {}).get(form_field.id)), ctx.t
        )
        if problem:
            return await _reject(ctx, form, form_field, problem)
        return await _accept(ctx, form, form_field, value)
    return [Reply(ctx._(FORM_CLOSED))]


@router.command("cancel", description=N_("Stop what we are doing"))
async def cancel(ctx: Context) -> Reply:
    if await ctx.conversation.load() is None:
        return Reply(ctx._(NOTHING_TO_CANCEL))
    await ctx.conversation.finish()
    return Reply(ctx._(STOPPED))


async def resume(ctx: Context, form_id: str) -> list[Reply] | None:
    """If a walk of `form_id` is pending for this person, ask where they left off; else None."""
    state = await ctx.conversation.load()
    if state is None or state.flow != FLOW or ctx.conversation.data.get("form") != form_id:
        return None
    if ctx.conversation.data.get("native") or ctx.incoming.native_forms:
        return None
    current = await _current_form(ctx)
    if current is None:
        return None
    return await _next(ctx, current[1], first=True)
