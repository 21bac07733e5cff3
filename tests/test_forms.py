"""Neutral forms: checks in the core, and the field-by-field walk of platforms without modals."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.app import BotApp
from bot.callbacks import CallbackData
from bot.clock import FakeClock
from bot.config import Settings
from bot.context import Context
from bot.domain.people import POLICY
from bot.forms import Choice, Field, FieldKind, Form, FormErrors, Submitted, check_submission, parse_number
from bot.i18n import Catalogs
from bot.messages import Reply
from bot.routing import Router
from bot.storage.database import Database
from tests.harness import ConsoleChat

TOPICS = tuple(
    Choice(label, value) for value, label in [("youth", "Youth engagement"), ("hate", "Online hate")]
)
COUNTRIES = (*(Choice(f"Country {n}", f"c{n}") for n in range(20)), Choice("Côte d'Ivoire", "CI"))
probe = Router("probe-forms")


async def probe_form(ctx: Context, context: Mapping[str, str]) -> Form:
    return Form(
        "probe",
        "Probe",
        (
            Field("name", "Your name"),
            Field("email", "Email", FieldKind.EMAIL),
            Field("size", "Population", FieldKind.NUMBER),
            Field("topics", "Topics", FieldKind.MULTI_CHOICE, choices=TOPICS),
            Field("country", "Country", FieldKind.CHOICE, choices=COUNTRIES),
            Field("when", "When", FieldKind.DATETIME, required=False),
            Field("note", "Note", FieldKind.LONG_TEXT, required=False, rich=True),
        ),
        "Send",
        context=dict(context),
    )


@probe.command("probe")
async def open_probe(ctx: Context) -> Reply:
    form = await probe_form(ctx, {"case": "7"})
    return Reply("Fill this in.", form=form)


@probe.command("prefilled")
async def open_prefilled(ctx: Context) -> Reply:
    form = await probe_form(ctx, {})
    values = {"name": "Amina", "email": "a@b.org", "size": "3", "topics": ("youth",), "country": "CI"}
    return Reply("", form=form.with_values(values))


@probe.form("probe", build=probe_form)
async def probe_submitted(ctx: Context, submitted: Submitted) -> Reply:
    if submitted.text("name") == "taken":
        raise FormErrors({"name": "That name is taken."})
    values = ", ".join(f"{key}={value!r}" for key, value in sorted(submitted.values.items()))
    return Reply(f"got case {submitted.context.get('case')}: {values}")


@pytest.fixture
async def probe_app(settings: Settings, sqlite_database: Database, clock: FakeClock) -> BotApp:
    return BotApp(settings, [probe], clock=clock, database=sqlite_database, flood_limit=False, access=POLICY)


def test_numbers_are_read_as_people_write_them() -> None:
    assert [parse_number(t) for t in ("25000", "25 000", "25,000", "25.000", "1.5", "1,5", "12k", "")] == [
        "25000", "25000", "25000", "25000", "1.5", "1.5", None, None,
    ]  # fmt: skip


def test_every_kind_is_checked_and_unknown_fields_are_named(settings: Settings) -> None:
    t = Catalogs(settings.bot_locales_dir).translator("en")
    form = Form("f", "F", (
        Field("email", "E", FieldKind.EMAIL), Field("n", "N", FieldKind.NUMBER),
        Field("when", "W", FieldKind.DATETIME), Field("pick", "P", FieldKind.CHOICE, choices=TOPICS),
        Field("many", "M", FieldKind.MULTI_CHOICE, choices=TOPICS), Field("free", "F", required=False),
    ), "Go")  # fmt: skip
    raw = {"email": "not-an-email", "n": "lots", "when": "2027-02-31 10:00", "pick": "sport",
           "many": ["youth", "sport"], "extra": "x", "free": "ok\x00"}  # fmt: skip
    values, errors = check_submission(form, raw, t)
    assert set(errors) == {"email", "n", "when", "pick", "many", "extra", "free"}
    assert "does not exist" in errors["when"] and "no field extra" in errors["extra"]
    assert "cannot store" in errors["free"]
    good = {"email": "ana@lisboa.pt", "n": "504 718", "when": "2027-03-14 15:00", "pick": "hate",
            "many": ["youth", "hate", "youth"]}  # fmt: skip
    values, errors = check_submission(form, good, t)
    assert errors == {}
    assert values == {"email": "ana@lisboa.pt", "n": "504718", "when": "2027-03-14 15:00", "pick": "hate",
                      "many": ("youth", "hate"), "free": ""}  # fmt: skip


async def test_a_whole_form_submission_keeps_its_context_and_typed_values(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina")
    await chat.send("/probe")
    assert chat.form().context == {"case": "7"}
    [rejected] = await chat.submit(
        "probe", name="taken", email="a@b.org", size="3", topics=["hate"], country="CI"
    )
    assert rejected.form is not None and rejected.form.errors == {"name": "That name is taken."}
    assert rejected.form.values["email"] == "a@b.org" and rejected.form.context == {"case": "7"}
    [done] = await chat.submit(
        "probe", name="Amina", email="a@b.org", size="3", topics=["hate"], country="CI"
    )
    assert done.text.startswith("got case 7: ")  # the context came from the form that was shown
    assert "topics=('hate',)" in done.text


async def test_the_walk_asks_field_by_field_and_submits(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina", native_forms=False)
    [first] = await chat.send("/probe")
    assert first.form is None and "Fill this in." in first.text and "Your name" in first.text
    assert "(1 of 7)" in first.text
    [ask] = await chat.send("Amina")
    assert ask.text.startswith("Email")
    [again] = await chat.send("amina at home")
    assert "email address" in again.text and "Email" in again.text  # the error, and the field asked again
    await chat.send("amina@mombasa.go.ke")
    [topics] = await chat.send("200 000")
    assert "Topics" in topics.text
    await chat.press_label("Online hate")
    [toggled] = chat.last
    assert "✓ Online hate" in [b.label for b in toggled.buttons]
    [country] = await chat.press_label("Done")
    assert "Type the name" in country.text and len(country.buttons) == 1  # too many for buttons: Cancel
    [several] = await chat.send("countr")
    assert "Several options match" in several.text
    [when] = await chat.send("cote d'ivoire")  # accents and case do not matter
    assert when.text.startswith("When") and "Skip" in [b.label for b in when.buttons]
    [note] = await chat.send("-")
    assert note.text.startswith("Note")
    [done] = await chat.send("Bring <maps> & water")
    assert done.text.startswith("got case 7: ")
    assert "country='CI'" in done.text and "size='200000'" in done.text and "when=''" in done.text
    assert "note='Bring &lt;maps&gt; &amp; water'" in done.text  # a rich field keeps safe HTML


async def test_the_walk_survives_a_restart_and_resumes_where_it_was(
    probe_app: BotApp, settings: Settings, sqlite_database: Database, clock: FakeClock
) -> None:
    chat = ConsoleChat(probe_app, "amina", native_forms=False)
    await chat.send("/probe")
    await chat.send("Amina")
    clock.advance(days=1)
    restarted = BotApp(
        settings, [probe], clock=clock, database=sqlite_database, flood_limit=False, access=POLICY
    )
    later = ConsoleChat(restarted, "amina", native_forms=False)
    [ask] = await later.send("amina@mombasa.go.ke")
    assert ask.text.startswith("Population")


async def test_a_prefilled_walk_opens_on_a_summary_where_any_field_can_change(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina", native_forms=False)
    [summary] = await chat.send("/prefilled")
    assert "Please check your answers" in summary.text and "Country: Côte d'Ivoire" in summary.text
    [ask] = await chat.press_label("Change: Your name")
    assert ask.text.startswith("Your name") and "Now: Amina" in ask.text
    [summary] = await chat.send("Amina Yusuf")
    assert "Your name: Amina Yusuf" in summary.text
    [done] = await chat.press_label("Send")
    assert "name='Amina Yusuf'" in done.text


async def test_a_button_of_a_closed_form_says_so(probe_app: BotApp) -> None:
    chat = ConsoleChat(probe_app, "amina", native_forms=False)
    await chat.send("/probe")
    [stopped] = await chat.press_label("Cancel")
    assert "Stopped" in stopped.text
    [closed] = await chat.press("form:probe:skip:5:0")
    assert "no longer open" in closed.text


def test_callback_payloads_round_trip_and_refuse_forgeries() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Pick(CallbackData, prefix="pick"):
        name: str
        count: int
        sure: bool = False

    assert Pick("a:b%c", 3).pack() == "pick:a%3Ab%25c:3"
    assert Pick.unpack("pick:a%3Ab%25c:3:1") == Pick("a:b%c", 3, True)
    for forged in ("pick", "pick:x", "pick:x:y", "pick:x:3:2", "other:x:3", "pick:x:3:1:9"):
        with pytest.raises(ValueError):
            Pick.unpack(forged)
