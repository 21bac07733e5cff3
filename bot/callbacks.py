"""Typed button payloads: one small frozen dataclass per button family, packed and unpacked in one place.

    @dataclass(frozen=True)
    class ShowTopic(CallbackData, prefix="topic"):
        topic: str

    Button(title, ShowTopic("cost").pack())     # "topic:cost"
    ShowTopic.unpack("topic:cost")              # ShowTopic(topic="cost"); ValueError if malformed

Fields are `str`, `int`, `bool` or a `StrEnum`, packed in order after the prefix and separated by `:`
(a `:` or `%` inside a string is percent-escaped, so any text round-trips). Trailing fields that hold
their default are left out (`LanguageButton("menu")` is `"lang:menu"`). A payload that does not
unpack (forged, or from an older version of the bot) is a `ValueError`, which the dispatcher answers
with "that button has expired". Platform limits (Telegram's 64 bytes) are handled below this, by the
adapters (`bot.payloads`).
"""

from __future__ import annotations

import dataclasses
import typing
from enum import StrEnum
from typing import Any, ClassVar, Self

SEPARATOR = ":"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace(SEPARATOR, "%3A")


def _unescape(text: str) -> str:
    return text.replace("%3A", SEPARATOR).replace("%25", "%")


def _pack_value(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, StrEnum):
        return _escape(value.value)
    return _escape(str(value))


def _unpack_value(kind: Any, text: str) -> object:
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(f"not a flag: {text!r}")
        return text == "1"
    if kind is int:
        if not text.removeprefix("-").isdigit() or len(text) > 18:
            raise ValueError(f"not a number: {text!r}")
        return int(text)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(_unescape(text))
    if kind is str:
        return _unescape(text)
    raise TypeError(f"unsupported callback field type {kind!r}")


class CallbackData:
    """Base of every button payload family; subclasses are frozen dataclasses with a `prefix`."""

    prefix: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Any, Any], ...] | None] = None  # name, type, default

    def __init_subclass__(cls, prefix: str = "", **options: Any) -> None:
        super().__init_subclass__(**options)
        if not prefix or not all(ch.isalnum() or ch in "_-" for ch in prefix):
            raise ValueError(f"{cls.__name__}: bad callback prefix {prefix!r}")
        cls.prefix = prefix
        cls._fields = None

    @classmethod
    def _field_types(cls) -> tuple[tuple[str, Any, Any], ...]:
        if cls._fields is None:
            hints = typing.get_type_hints(cls)
            cls._fields = tuple(
                (f.name, hints[f.name], f.default)
                for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            )
        return cls._fields

    def pack(self) -> str:
        fields = self._field_types()
        values = [getattr(self, name) for name, _, _ in fields]
        while values and values[-1] == fields[len(values) - 1][2]:
            values.pop()  # a trailing default is implied
        return SEPARATOR.join([self.prefix, *(_pack_value(value) for value in values)])

    @classmethod
    def unpack(cls, payload: str) -> Self:
        """The payload's fields; raises `ValueError` for anything this family did not pack."""
        head, *parts = payload.split(SEPARATOR)
        fields = cls._field_types()
        required = sum(1 for _, _, default in fields if default is dataclasses.MISSING)
        if head != cls.prefix or not required <= len(parts) <= len(fields):
            raise ValueError(f"not a {cls.prefix} payload: {payload[:80]!r}")
        try:
            values = {
                name: _unpack_value(kind, part) for (name, kind, _), part in zip(fields, parts, strict=False)
            }
        except (ValueError, KeyError) as error:
            raise ValueError(f"bad {cls.prefix} payload: {error}") from None
        return cls(**values)


def prefix_of(payload: str) -> str:
    return payload.partition(SEPARATOR)[0]
