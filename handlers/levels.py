"""The kinds of member authority, as people read them (the stored values are `CityLevel`)."""

from __future__ import annotations

from bot.context import Context
from bot.domain.cities import LEVEL_LABELS
from bot.forms import Choice


def level_choices(ctx: Context) -> tuple[Choice, ...]:
    return tuple(Choice(ctx._(label), value) for value, label in LEVEL_LABELS.items())


def level_label(ctx: Context, level: str) -> str:
    return ctx._(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level
