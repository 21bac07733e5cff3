"""Conversation logic, one module per capability; each exposes a `router`."""

from __future__ import annotations

from bot.routing import Router


def routers() -> list[Router]:
    """Every feature's router, in the order their commands appear in menus."""
    from handlers import (
        apply,
        events,
        fallback,
        help,
        introductions,
        language,
        matching,
        mydata,
        peers,
        profile,
        questions,
        staff,
        start,
    )

    return [
        start.router,
        help.router,
        language.router,
        apply.router,
        events.router,
        profile.router,
        peers.router,
        introductions.router,
        matching.router,
        mydata.router,
        *staff.routers(),
        questions.router,
        fallback.router,
    ]
