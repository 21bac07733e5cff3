"""Neutral forms: what a reply asks a person to fill in, and how a submission is checked.

A `Reply` may carry a `Form`. Platforms with modals render it whole (Slack: a Block Kit modal; the
scripted console: a JSON record) and send back one `FormSubmission`; platforms without them (Telegram,
the interactive console) are walked through it field by field by `bot.form_steps`. Either way the
submission is checked here, in the core, before the form's handler sees it: a bad value comes back as
the same form with an error on that field and every value typed so far kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

from bot.i18n import N_, Translator

FormValue: TypeAlias = str | tuple[str, ...]
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
TEXT_LIMIT = 200
LONG_TEXT_LIMIT = 4000
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]{2,}$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}([.,' ]\d{3})+$")
_SEPARATORS = str.maketrans("", "", " \u00a0\u202f\u2009'_")

REQUIRED = N_("Please fill in this field.")
TOO_LONG = N_("Please use at most {limit} characters.")
NOT_A_CHOICE = N_("Please choose one of the options offered.")
NOT_ONE_OF = N_("{value} is not one of the options offered.")
NOT_A_NUMBER = N_("Please write a number, such as 25000.")
NOT_AN_EMAIL = N_("Please write an email address, such as name@city.gov.")
NOT_A_DATETIME = N_("Please write the date and time as YYYY-MM-DD HH:MM, such as 2027-03-14 15:00.")
NO_SUCH_DATE = N_("That date does not exist. Please check the day and the month.")
BAD_CHARACTERS = N_("That contains characters I cannot store. Please type it again.")
NO_SUCH_FIELD = N_("This form has no field {field}.")
ONE_VALUE = N_("Please give one value here, not a list.")


class FieldKind(StrEnum):
    """What a field holds; the values are the `kind` strings of the scripted console."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    DATETIME = "datetime"  # local wall time, YYYY-MM-DD HH:MM (its zone is another field's business)
    NUMBER = "number"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str
    group: str = ""  # platforms that can group a long list of options show it under this heading


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    choices: tuple[Choice, ...] = ()
    hint: str = ""  # shown under the label: an example, what the field is for
    max_length: int | None = None
    rich: bool = False  # long text whose value is safe HTML (bot.markup); adapters convert their markup

    @property
    def limit(self) -> int:
        if self.max_length is not None:
            return self.max_length
        return LONG_TEXT_LIMIT if self.kind is FieldKind.LONG_TEXT else TEXT_LIMIT

    def label_of(self, value: str) -> str:
        """The label of a choice value (the value itself when it is not a choice)."""
        return next((choice.label for choice in self.choices if choice.value == value), value)


@dataclass(frozen=True, slots=True)
class Form:
    """A form to fill in: `values` are what is already there (prefilled, or typed before an error),
    `errors` the message per field of a rejected submission, `context` what the form is about
    (e.g. which event it edits), sent back untouched with the submission."""

    id: str
    title: str
    fields: tuple[Field, ...]
    submit: str
    intro: str = ""
    values: Mapping[str, FormValue] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def with_errors(self, errors: Mapping[str, str], values: Mapping[str, object]) -> Form:
        """The same form, showing `errors` and keeping every value typed (as it was typed)."""
        kept = {key: _as_value(value) for key, value in values.items() if self.field(key) is not None}
        return replace(self, errors=dict(errors), values={**self.values, **kept})

    def with_values(self, values: Mapping[str, FormValue]) -> Form:
        return replace(self, values={**self.values, **values}, errors={})


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """What a person sent back for form `form_id`: raw values, before any check."""

    form_id: str
    values: Mapping[str, object]
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A checked submission, as the form's handler receives it."""

    form: Form
    values: Mapping[str, FormValue]

    @property
    def context(self) -> Mapping[str, str]:
        return self.form.context

    def text(self, field_id: str) -> str:
        value = self.values.get(field_id, "")
        return value if isinstance(value, str) else ",".join(value)

    def many(self, field_id: str) -> tuple[str, ...]:
        value = self.values.get(field_id, ())
        return (value,) if isinstance(value, str) else value


class FormErrors(Exception):
    """Raised by a form's handler: these fields are wrong (messages already in the reader's language)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


def _as_value(value: object) -> FormValue:
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return "" if value is None else str(value)


def storable(text: str) -> bool:
    """False for text a database cannot keep: NUL bytes and lone surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def keepable(text: str) -> str:
    """`text` with every NUL and lone surrogate replaced by U+FFFD (for names, which are never refused)."""
    if storable(text):
        return text
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)


def check_value(form_field: Field, raw: object, t: Translator) -> tuple[FormValue, str | None]:
    """One field's value, normalised, and the error message (None when it is fine)."""
    if form_field.kind is FieldKind.MULTI_CHOICE:
        items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else []
        chosen = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
        allowed = {choice.value for choice in form_field.choices}
        wrong = next((item for item in chosen if item not in allowed), None)
        if wrong is not None:
            return chosen, t.gettext(NOT_ONE_OF, value=wrong[:50])
        if form_field.required and not chosen:
            return chosen, t.gettext(REQUIRED)
        return chosen, None
    if isinstance(raw, list | tuple):
        return _as_value(raw), t.gettext(ONE_VALUE)
    if isinstance(raw, bool):
        raw = "yes" if raw else "no"
    text = "" if raw is None else str(raw)
    if not storable(text):
        return "", t.gettext(BAD_CHARACTERS)
    text = text.strip() if form_field.kind is not FieldKind.LONG_TEXT else text.strip("\n ")
    if not text:
        return "", t.gettext(REQUIRED) if form_field.required else None
    if len(text) > form_field.limit:
        return text, t.gettext(TOO_LONG, limit=form_field.limit)
    if form_field.kind is FieldKind.CHOICE:
        if text not in {choice.value for choice in form_field.choices}:
            return text, t.gettext(NOT_A_CHOICE)
    elif form_field.kind is FieldKind.NUMBER:
        number = parse_number(text)
        if number is None:
            return text, t.gettext(NOT_A_NUMBER)
        text = number
    elif form_field.kind is FieldKind.EMAIL:
        if not _EMAIL.match(text):
            return text, t.gettext(NOT_AN_EMAIL)
    elif form_field.kind is FieldKind.DATETIME:
        problem = datetime_problem(text)
        if problem is not None:
            return text, t.gettext(problem)
        text = " ".join(text.split())
    return text, None


def parse_number(text: str) -> str | None:
    """ "25 000", "25,000", "25.000", "1.5" -> a canonical decimal string; None when it is no number."""
    squeezed = text.strip()
    if _GROUPED.match(squeezed):
        squeezed = re.sub(r"[.,' ]", "", squeezed)
    squeezed = squeezed.translate(_SEPARATORS).replace(",", ".")
    try:
        value = float(squeezed)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return str(int(value)) if value.is_integer() else repr(value)


def datetime_problem(text: str) -> str | None:
    """Why `text` is not a `YYYY-MM-DD HH:MM` wall time (a msgid), or None."""
    cleaned = " ".join(text.split())
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}", cleaned):
        return NOT_A_DATETIME
    try:
        datetime.strptime(cleaned, DATETIME_FORMAT)
    except ValueError:
        _day, clock = cleaned.split(" ")
        hour, minute = (int(part) for part in clock.split(":"))
        return NOT_A_DATETIME if hour > 23 or minute > 59 else NO_SUCH_DATE
    return None


def check_submission(
    form: Form, values: Mapping[str, object], t: Translator
) -> tuple[dict[str, FormValue], dict[str, str]]:
    """Every field checked: (normalised values, errors by field id). Unknown fields are errors too."""
    clean: dict[str, FormValue] = {}
    errors: dict[str, str] = {}
    for key in values:
        if form.field(key) is None:
            errors[str(key)] = t.gettext(NO_SUCH_FIELD, field=str(key)[:50])
    for form_field in form.fields:
        raw = values.get(form_field.id, form.values.get(form_field.id))
        value, problem = check_value(form_field, raw, t)
        clean[form_field.id] = value
        if problem is not None:
            errors[form_field.id] = problem
    return clean, errors


def shown_value(form_field: Field, value: FormValue) -> str:
    """A value as a person reads it in a summary (choice labels, lists joined)."""
    if isinstance(value, tuple):
        return ", ".join(form_field.label_of(item) for item in value)
    return form_field.label_of(value) if form_field.choices else value


def choices(pairs: Sequence[tuple[str, str]]) -> tuple[Choice, ...]:
    """`[(value, label), ...]` -> choices."""
    return tuple(Choice(label, value) for value, label in pairs)
