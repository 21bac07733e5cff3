"""The neutral markup of replies: plain text, or the safe HTML subset (`Markup.HTML`).

The HTML subset is b, i, u, s, code, pre and a href, always well formed; Telegram renders it as it is,
Slack's adapter turns it into mrkdwn and the console strips it. Adapters convert their own markup into
it on the way in, so the core never sees Slack mrkdwn or Telegram entities.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")


def plain_to_html(text: str) -> str:
    """Plain text, escaped so it shows as typed inside an HTML reply."""
    return html.escape(text, quote=False)


def html_to_plain(text: str) -> str:
    """What an HTML reply reads as without its tags."""
    return html.unescape(_TAG.sub("", text))


def visible_length(text: str) -> int:
    return len(html_to_plain(text))
