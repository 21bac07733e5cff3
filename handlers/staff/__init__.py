"""What staff do, platform-neutral: the same handlers serve Slack's `/scn <verb>` and the console.

Every entry point declares the staff permission it needs; the dispatcher refuses and audits anyone
without it, and the domain services check again.
"""

from __future__ import annotations

from bot.routing import Router


def routers() -> list[Router]:
    from handlers.staff import (
        announce,
        applications,
        cities,
        events,
        invitations,
        people,
        questions,
        stats,
        suggestions,
    )

    return [
        announce.router,
        events.router,
        questions.router,
        suggestions.router,
        applications.router,
        invitations.router,
        cities.router,
        people.router,
        stats.router,
    ]
