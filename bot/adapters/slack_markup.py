"""Slack mrkdwn -> the safe Telegram HTML subset (`Markup.HTML`), for announcements and staff answers.

Promised: the output is always well-formed (tags never cross, every `<`, `>` and `&` of the input is
escaped unless it became one of our own tags) and uses only b, i, s, code, pre and a href. Links keep
only http(s) and mailto targets; user, channel and group mentions become plain text or disappear; Slack's
date tokens show their fallback text. Anything else is text.

Slack sends message text with `&`, `<` and `>` escaped as entities, and `<...>` for links and mentions;
text typed into a modal's plain-text input arrives raw. `decode_entities` turns the first into the second.
"""

from __future__ import annotations

import html
import re

_CODE = re.compile(r"```(.+?)```|`([^`\n]+)`", re.S)
# A Slack token: a link, a mention or a special command, e.g. <https://x|label>, <@U123>, <!here>.
_TOKEN = re.compile(r"<((?:https?://|mailto:)[^\s<>|]+|[@#!][^\s<>|]+)(?:\|([^<>\n]*))?>")
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(?=\S)([^\n]*?[^\s])\1(?![\w*_~])")
_TAGS = {"*": "b", "_": "i", "~": "s"}
_HOLE = "\ue000{}\ue001"  # private-use characters: stand-ins for finished HTML while emphasis is parsed
_HOLES = re.compile("\ue000(\\d+)\ue001")


def decode_entities(slack_text: str) -> str:
    """Undo the only three entities Slack uses (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return slack_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn_to_html(text: str) -> str:
    """Raw mrkdwn (entities already decoded) -> safe Telegram HTML."""
    text = text.replace("\ue000", "").replace("\ue001", "")
    pieces: list[str] = []

    def hole(rendered: str) -> str:
        pieces.append(rendered)
        return _HOLE.format(len(pieces) - 1)

    def code(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return hole(f"<pre>{html.escape(match.group(1).strip(chr(10)), quote=False)}</pre>")
        return hole(f"<code>{html.escape(match.group(2), quote=False)}</code>")

    text = _CODE.sub(code, text)
    text = _TOKEN.sub(lambda match: hole(_token(match.group(1), match.group(2))), text)
    rendered = _emphasis(text)
    return _HOLES.sub(lambda match: pieces[int(match.group(1))], rendered)


def _token(target: str, label: str | None) -> str:
    if target.startswith(("http://", "https://", "mailto:")):
        shown = html.escape(label if label else target.removeprefix("mailto:"), quote=False)
        return f'<a href="{html.escape(target, quote=True)}">{shown}</a>'
    if target.startswith("!"):  # <!here>, <!channel>: dropped; <!date^...|fallback>, <!subteam^..|@x>
        return html.escape(label or "", quote=False)
    if label:  # <@U123|amira>, <#C123|general>
        sign = "@" if target.startswith("@") else "#"
        return html.escape(sign + label.lstrip("@#"), quote=False)
    return ""  # a bare user or channel id means nothing to a focal point


def _emphasis(text: str) -> str:
    """Escape `text`, turning *bold*, _italic_ and ~strike~ into tags; nested ones are parsed inside."""
    out: list[str] = []
    position = 0
    for match in _EMPHASIS.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        tag = _TAGS[match.group(1)]
        out.append(f"<{tag}>{_emphasis(match.group(2))}</{tag}>")
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)
