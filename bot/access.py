"""The one authorization step: what a role may do, asked by the dispatcher before any handler runs.

Commands, buttons and forms declare the permission they need (`needs=...`); the policy, supplied by
the domain (`bot.domain.people.POLICY`), says which roles hold it, which permissions are staff powers
(every use of those is audited, done or refused), and what to tell someone who lacks one. Domain
services check again where they act (`Refused` is what they raise), so a handler that forgets cannot
grant more than the role allows.
"""

from __future__ import annotations

from typing import Protocol


class Refused(Exception):
    """The person's role does not allow this. `message` is a msgid, shown in the person's language."""

    def __init__(self, message: str, permission: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.permission = permission


class AccessPolicy(Protocol):
    def allows(self, role: str, permission: str) -> bool: ...

    def audited(self, permission: str) -> bool:
        """Staff powers: every use is written to the audit log, whether done or refused."""
        ...

    def refusal(self, permission: str) -> str:
        """The msgid telling someone without `permission` why not, and what they can do instead."""
        ...


class OpenPolicy:
    """Everyone may do everything (a core without the domain: unit tests of the dispatcher)."""

    def allows(self, role: str, permission: str) -> bool:
        return True

    def audited(self, permission: str) -> bool:
        return False

    def refusal(self, permission: str) -> str:
        return ""
