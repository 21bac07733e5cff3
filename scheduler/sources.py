"""Every timer source the scheduler holds: event reminders, matching rounds, introduction expiry."""

from __future__ import annotations

from scheduler.peers import IntroductionExpiry, MatchingRounds
from scheduler.reminders import EventReminders
from scheduler.runner import TimerSource


def default_sources() -> list[TimerSource]:
    return [EventReminders(), MatchingRounds(), IntroductionExpiry()]
