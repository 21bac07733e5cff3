"""Neutral replies and forms as Slack sees them: Block Kit messages and modals, and the values back.

Slack's limits are kept here: 24 characters of a modal title or button, 75 of an option's text, 100
options in a select, 3000 characters of a section or text input, 25 elements of an actions block,
2000 characters of a button's value, 100 blocks, 3000 characters of private metadata. The safe HTML
of replies becomes mrkdwn; rich form fields go the other way (`slack_markup`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.adapters.slack_markup import mrkdwn_to_html
from bot.forms import Field, FieldKind, Form, FormSubmission
from bot.messages import Markup, Reply

JSON = dict[str, Any]
FORM_PREFIX = "form:"
MESSAGE_VIEW = "scn_message"
BUTTON_ACTION = "scn_button"
VALUE_ACTION = "value"
MAX_OPTIONS = 100
MAX_BLOCKS = 100
SECTION_LIMIT = 3000
INPUT_LIMIT = 3000
BUTTON_VALUE_LIMIT = 2000
_TAG = re.compile(r"<(/?)(b|strong|i|em|u|ins|s|strike|del|code|pre)>|<a href=\"([^\"]*)\">|</a>")
_SLACK_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "u": "_", "ins": "_",
                "s": "~", "strike": "~", "del": "~", "code": "`", "pre": "```"}  # fmt: skip


def _plain(text: str, limit: int = 75) -> JSON:
    text = text or " "
    return {
        "type": "plain_text",
        "text": text if len(text) <= limit else text[: limit - 1] + "…",
        "emoji": True,
    }


def escape(text: str) -> str:
    """Text shown as-is in Slack: its three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_to_mrkdwn(text: str) -> str:
    """The safe HTML subset of a `Reply` -> Slack mrkdwn (tags to marks, text escaped for Slack)."""
    out: list[str] = []
    position = 0
    link: list[str] = []
    for match in _TAG.finditer(text):
        segment = escape(html.unescape(text[position : match.start()]))
        position = match.end()
        if link:
            link.append(segment)
        else:
            out.append(segment)
        if match.group(3) is not None:
            link[:] = [escape(html.unescape(match.group(3)))]
        elif match.group(0) == "</a>":
            if link:
                out.append(f"<{link[0]}|{''.join(link[1:]).replace('|', '¦')}>")
            link.clear()
        else:
            (link if link else out).append(_SLACK_MARKS[match.group(2)])
    out.append(escape(html.unescape(text[position:])))
    return "".join(out)


def reply_to_mrkdwn(reply: Reply) -> str:
    """The reply's text (and its link buttons) as one mrkdwn text."""
    body = html_to_mrkdwn(reply.text) if reply.markup is Markup.HTML else escape(reply.text)
    links = [f"<{escape(b.url)}|{escape(b.label)}>" for b in reply.buttons if b.url]
    notes = [f"({escape(a.filename)}, {len(a.content)} bytes: not shown in Slack)" for a in reply.attachments]
    return "\n".join([body, *links, *notes]).strip() or " "


def _sections(text: str) -> list[JSON]:
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [" "]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def _actions(reply: Reply) -> list[JSON]:
    elements: list[JSON] = []
    for index, button in enumerate(reply.buttons):
        if button.url is not None:
            elements.append({"type": "button", "text": _plain(button.label), "url": button.url[:3000],
                             "action_id": f"url:{index}"})  # fmt: skip
        elif button.payload is not None and len(button.payload) <= BUTTON_VALUE_LIMIT:
            elements.append({"type": "button", "text": _plain(button.label), "value": button.payload,
                             "action_id": f"{BUTTON_ACTION}:{index}"})  # fmt: skip
    return [{"type": "actions", "elements": elements[i : i + 25]} for i in range(0, len(elements), 25)]


def message_blocks(replies: Sequence[Reply]) -> tuple[str, list[JSON]]:
    """Replies as one message: (fallback text, blocks)."""
    texts = [reply_to_mrkdwn(reply) for reply in replies]
    blocks: list[JSON] = []
    for reply, text in zip(replies, texts, strict=True):
        blocks += _sections(text) + _actions(reply)
    return "\n\n".join(texts)[:3000], blocks[:MAX_BLOCKS]


def has_buttons(reply: Reply) -> bool:
    return any(button.payload is not None for button in reply.buttons)


def message_view(replies: Sequence[Reply], title: str, metadata: Mapping[str, Any] | None = None) -> JSON:
    """Replies shown inside a modal (what a submission or a button in a modal leads to)."""
    _text, blocks = message_blocks(replies)
    return {
        "type": "modal",
        "callback_id": MESSAGE_VIEW,
        "title": _plain(title, 24),
        "close": _plain("Close", 24),
        "blocks": blocks,
        "private_metadata": json.dumps(dict(metadata or {}))[:3000],
    }


def _option(label: str, value: str) -> JSON:
    return {"text": _plain(label), "value": value[:150]}


def _select(field: Field, initial: object) -> JSON:
    options = field.choices[:MAX_OPTIONS]
    element: JSON = {"type": "static_select" if field.kind is FieldKind.CHOICE else "multi_static_select",
                     "action_id": VALUE_ACTION}  # fmt: skip
    if any(choice.group for choice in options):
        groups: dict[str, list[JSON]] = {}
        for choice in options:
            groups.setdefault(choice.group or " ", []).append(_option(choice.label, choice.value))
        element["option_groups"] = [
            {"label": _plain(name), "options": items} for name, items in groups.items()
        ]
    else:
        element["options"] = [_option(choice.label, choice.value) for choice in options]
    chosen = (
        [initial] if isinstance(initial, str) else list(initial) if isinstance(initial, tuple | list) else []
    )
    picked = [_option(c.label, c.value) for c in options if c.value in chosen]
    if picked:
        if field.kind is FieldKind.CHOICE:
            element["initial_option"] = picked[0]
        else:
            element["initial_options"] = picked
    return element


def _input(field: Field, value: object) -> JSON:
    initial = value if isinstance(value, str) else ""
    if field.rich and initial:
        initial = html_to_mrkdwn(initial)
    if field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        element = _select(field, value)
    elif field.kind is FieldKind.NUMBER:
        element = {"type": "number_input", "action_id": VALUE_ACTION, "is_decimal_allowed": True}
    elif field.kind is FieldKind.EMAIL:
        element = {"type": "email_text_input", "action_id": VALUE_ACTION}
    else:
        element = {"type": "plain_text_input", "action_id": VALUE_ACTION,
                   "multiline": field.kind is FieldKind.LONG_TEXT,
                   "max_length": min(field.limit, INPUT_LIMIT)}  # fmt: skip
        if field.kind is FieldKind.DATETIME:
            element["placeholder"] = _plain("YYYY-MM-DD HH:MM", 150)
    if initial and field.kind not in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        element["initial_value"] = initial[:INPUT_LIMIT]
    block: JSON = {"type": "input", "block_id": field.id, "label": _plain(field.label, 2000),
                   "optional": not field.required, "element": element}  # fmt: skip
    if field.hint:
        block["hint"] = _plain(field.hint, 2000)
    return block


def form_view(form: Form, lead: str = "", metadata: Mapping[str, Any] | None = None) -> JSON:
    """A form as a modal; its submission comes back with the callback id `form:<id>`."""
    blocks: list[JSON] = []
    intro = "\n\n".join(part for part in (lead, form.intro) if part)
    if intro:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": intro[:SECTION_LIMIT]}})
    blocks += [_input(field, form.values.get(field.id)) for field in form.fields]
    rich = [field.id for field in form.fields if field.rich]
    private = {"form": form.id, "context": dict(form.context), "rich": rich, **dict(metadata or {})}
    return {
        "type": "modal",
        "callback_id": f"{FORM_PREFIX}{form.id}",
        "title": _plain(form.title, 24),
        "submit": _plain(form.submit, 24),
        "close": _plain("Cancel", 24),
        "blocks": blocks[:MAX_BLOCKS],
        "private_metadata": json.dumps(private, ensure_ascii=False)[:3000],
    }


def metadata_of(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def read_submission(view: Mapping[str, Any]) -> FormSubmission | None:
    """A modal's submission as neutral values (rich fields converted from mrkdwn to safe HTML)."""
    callback = str(view.get("callback_id") or "")
    if not callback.startswith(FORM_PREFIX):
        return None
    metadata = metadata_of(view)
    rich = set(metadata.get("rich") or ()) if isinstance(metadata.get("rich"), list) else set()
    values: dict[str, object] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        state = (actions or {}).get(VALUE_ACTION) or {}
        kind = state.get("type")
        if kind == "static_select":
            values[block_id] = (state.get("selected_option") or {}).get("value") or ""
        elif kind == "multi_static_select":
            values[block_id] = [o.get("value") for o in state.get("selected_options") or [] if o.get("value")]
        else:
            raw = state.get("value")
            text = "" if raw is None else str(raw)
            values[block_id] = mrkdwn_to_html(text) if block_id in rich else text
    found = metadata.get("context")
    context: dict[str, Any] = found if isinstance(found, dict) else {}
    return FormSubmission(
        callback.removeprefix(FORM_PREFIX), values, {str(k): str(v) for k, v in context.items()}
    )


def field_errors(form: Form) -> dict[str, str]:
    """A rejected form's errors as Slack wants them (by block id; errors of unknown fields go on the
    first field, since Slack can only mark blocks that exist)."""
    ids = {field.id for field in form.fields}
    errors: dict[str, str] = {}
    for key, message in form.errors.items():
        target = key if key in ids else (form.fields[0].id if form.fields else key)
        errors[target] = (errors[target] + " " + message) if target in errors else message
    return {key: message[:150] for key, message in errors.items()}
