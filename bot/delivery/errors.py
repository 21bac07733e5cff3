"""Neutral delivery errors: adapters map their platform's errors to these, the outbox acts on them."""

from __future__ import annotations


class DeliveryError(Exception):
    """Sending failed; subclasses say whether to wait, retry, give up on the message or the recipient."""


class RateLimited(DeliveryError):
    """The platform asked us to slow down: pause the whole platform for `retry_after` seconds."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class RecipientGone(DeliveryError):
    """The recipient blocked the bot or no longer exists: send them nothing more."""


class PermanentFailure(DeliveryError):
    """The platform refused this message for good (bad request); the reason says why."""


class TransientFailure(DeliveryError):
    """A network error or a server fault: try again later with backoff."""
