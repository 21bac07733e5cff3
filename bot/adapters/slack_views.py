"""What staff see in Slack: the announcement modals as Block Kit JSON, and replies rendered as mrkdwn.

Slack's limits are kept here: 24 characters of modal title, 75 of an option's text, 100 options per
group, 3000 characters of a text input or section. Block and action ids are constants the listeners in
`slack_staff` read back.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.announcements import MAX_TEXT_LENGTH, AudienceChoices, Preview
from bot.i18n import language_name
from bot.messages import Markup, Reply

JSON = dict[str, Any]
COMPOSE = "scn_announce_compose"
CONFIRM = "scn_announce_confirm"
TEXT_BLOCK, AUDIENCE_BLOCK, VERSION_PREFIX = "announce_text", "announce_audience", "announce_text_"
TEXT_ACTION, AUDIENCE_ACTION = "text", "audience"
MAX_OPTIONS = 100
_TAG = re.compile(r"<(/?)(b|strong|i|em|u|ins|s|strike|del|code|pre)>|<a href=\"([^\"]*)\">|</a>")
_SLACK_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "u": "_", "ins": "_",
                "s": "~", "strike": "~", "del": "~", "code": "`", "pre": "```"}  # fmt: skip


def _plain(text: str, limit: int = 75) -> JSON:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _option(label: str, value: str) -> JSON:
    return {"text": _plain(label), "value": value[:150]}


def _group(label: str, options: Sequence[JSON]) -> JSON:
    return {"label": _plain(label), "options": list(options[:MAX_OPTIONS])}


def audience_groups(choices: AudienceChoices) -> list[JSON]:
    everyone = _option("All focal points", "all")
    groups = [_group("Everyone", [everyone])]
    named = [
        ("By region", [_option(region, f"region:{region}") for region in choices.regions]),
        ("By country", [_option(country, f"country:{country}") for country in choices.countries]),
        ("By language", [_option(f"{language_name(code, 'en')} ({code})", f"language:{code}")
                         for code in choices.languages]),
        ("By city", [_option(name, f"city:{city_id}") for city_id, name in choices.cities]),
    ]  # fmt: skip
    groups += [_group(label, options) for label, options in named if options]
    return groups


def _text_input(block_id: str, label: str, *, initial: str = "", optional: bool = False) -> JSON:
    element: JSON = {
        "type": "plain_text_input",
        "action_id": TEXT_ACTION,
        "multiline": True,
        "max_length": MAX_TEXT_LENGTH,
    }
    if initial:
        element["initial_value"] = initial[:MAX_TEXT_LENGTH]
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "optional": optional,
        "element": element,
    }


def compose_view(
    choices: AudienceChoices, languages: Sequence[str], metadata: Mapping[str, str], *, text: str = ""
) -> JSON:
    """The announcement form: the text, the audience, and an optional version per language."""
    groups = audience_groups(choices)
    audience = {
        "type": "input",
        "block_id": AUDIENCE_BLOCK,
        "label": _plain("Audience"),
        "element": {
            "type": "static_select",
            "action_id": AUDIENCE_ACTION,
            "option_groups": groups,
            "initial_option": groups[0]["options"][0],
        },
    }
    blocks: list[JSON] = [
        _text_input(TEXT_BLOCK, "Announcement", initial=text),
        audience,
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Optional: the announcement in other languages. Each focal point gets the version in "
            "their language, else the text above. *bold*, _italic_ and links are kept.")}]},
    ]  # fmt: skip
    blocks += [
        _text_input(f"{VERSION_PREFIX}{code}", f"{language_name(code, 'en')} ({code})", optional=True)
        for code in languages
    ]
    return {
        "type": "modal",
        "callback_id": COMPOSE,
        "title": _plain("Announce to cities", 24),
        "submit": _plain("Preview", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": json.dumps(dict(metadata)),
        "blocks": blocks[:100],
    }


def read_compose(values: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    """`view.state.values` of the form -> (text, audience code, versions by language)."""
    text = values.get(TEXT_BLOCK, {}).get(TEXT_ACTION, {}).get("value") or ""
    selected = values.get(AUDIENCE_BLOCK, {}).get(AUDIENCE_ACTION, {}).get("selected_option") or {}
    versions = {
        block_id.removeprefix(VERSION_PREFIX): str(state.get(TEXT_ACTION, {}).get("value") or "")
        for block_id, state in values.items()
        if block_id.startswith(VERSION_PREFIX)
    }
    return str(text), str(selected.get("value") or "all"), versions


def preview_view(
    announcement_id: int, audience_words: str, preview: Preview, text: str, versions: Sequence[str]
) -> JSON:
    """The count and the text, with Send only when someone is in the audience."""
    if preview.can_confirm:
        languages = ", ".join(f"{code} {count}" for code, count in preview.by_language.items())
        reach = (
            f"*This announcement will reach {preview.people} people* ({audience_words}).\n"
            f"By language: {languages}."
        )
    else:
        reach = (
            f":warning: *0 people*: no focal point matches {audience_words}. "
            "Go back and choose another audience."
        )
    blocks: list[JSON] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": reach}},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
    ]
    if versions:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Also written in: " + ", ".join(versions)}],
            }
        )
    view: JSON = {
        "type": "modal",
        "callback_id": CONFIRM,
        "title": _plain("Preview", 24),
        "close": _plain("Back", 24),
        "blocks": blocks,
        "private_metadata": json.dumps({"announcement": announcement_id}),
    }
    if preview.can_confirm:
        view["submit"] = _plain(f"Send to {preview.people}", 24)
    return view


def notice_view(title: str, text: str) -> JSON:
    return {
        "type": "modal",
        "title": _plain(title, 24),
        "close": _plain("Close", 24),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }


def escape(text: str) -> str:
    """Text shown as-is in Slack: its three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_to_mrkdwn(text: str) -> str:
    """The Telegram HTML subset of a `Reply` -> Slack mrkdwn (tags to marks, text escaped for Slack)."""
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
    body = html_to_mrkdwn(reply.text) if reply.markup is Markup.HTML else escape(reply.text)
    links = [f"<{escape(b.url)}|{escape(b.label)}>" for b in reply.buttons if b.url]
    return "\n".join([body, *links]) if links else body
