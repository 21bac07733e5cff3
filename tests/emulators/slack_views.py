"""Modals in the Slack emulator: views.open, views.push and views.update with their trigger ids.

Why a module of its own: modals follow their own rules, apart from messages. Promised, as in
Slack: a trigger id opens one modal, once, within ``TRIGGER_TTL_SECONDS`` of being issued; a
view is found by ``view_id`` or ``external_id``; an update with a stale ``hash`` is refused with
``hash_conflict``; every update keeps the earlier payload in ``SlackView.updates``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from tests.emulators.slack_payloads import new_trigger_id
from tests.emulators.slack_records import JSON, SlackView
from tests.emulators.slack_rules import Refusal, missing, require, structured

TRIGGER_TTL_SECONDS = 3.0


class ViewRegistry:
    """The modals the bot opened (``views``, by id) and the trigger ids not yet used."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.views: dict[str, SlackView] = {}
        self._clock = clock
        self._triggers: dict[str, float] = {}
        self._serial = itertools.count(1)

    def issue_trigger_id(self) -> str:
        trigger_id = new_trigger_id()
        self._triggers[trigger_id] = self._clock()
        return trigger_id

    def open(self, args: JSON, pushed: bool = False) -> SlackView:
        require(args, "trigger_id", "view")
        payload = self._view_payload(args)
        self._take_trigger(str(args["trigger_id"]))
        view = SlackView(
            f"V0{next(self._serial):09X}",
            payload,
            self._new_hash(),
            str(args["trigger_id"]),
            payload.get("external_id") or None,
            pushed,
        )
        self.views[view.id] = view
        return view

    def update(self, args: JSON) -> SlackView:
        require(args, "view")
        if not args.get("view_id") and not args.get("external_id"):
            raise missing("view_id")
        payload = self._view_payload(args)
        view = next(
            (
                v
                for v in self.views.values()
                if v.id == args.get("view_id")
                or (args.get("external_id") and v.external_id == args.get("external_id"))
            ),
            None,
        )
        if view is None:
            raise Refusal("not_found")
        if args.get("hash") and args["hash"] != view.hash:
            raise Refusal("hash_conflict")
        view.updates.append(view.payload)
        view.payload, view.hash = payload, self._new_hash()
        return view

    def _take_trigger(self, trigger_id: str) -> None:
        issued_at = self._triggers.pop(trigger_id, None)
        if issued_at is None or self._clock() - issued_at > TRIGGER_TTL_SECONDS:
            raise Refusal("invalid_trigger_id")

    def _view_payload(self, args: JSON) -> JSON:
        payload = structured(args["view"], "invalid_arguments")
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise missing("view.type")
        return payload

    def _new_hash(self) -> str:
        return f"{int(self._clock())}.{next(self._serial):08x}"
