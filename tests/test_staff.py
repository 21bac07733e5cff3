"""Staff powers only for staff: every role tries every staff command, button and form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app import BotApp
from bot.storage.announcements import Announcement
from bot.storage.audit import AuditEntry
from bot.storage.delivery import Delivery
from bot.storage.questions import KnowledgeSuggestion
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point

STAFF_COMMANDS = ["/announce", "/questions", "/answer 1", "/stats"]
STAFF_BUTTONS = [
    "announce:send:1",
    "announce:edit:1",
    "announce:cancel:1",
    "question:answer:1",
    "question:suggest:1",
]
STAFF_FORMS = [
    ("announce", {"text": "Forged", "audience": "all"}),
    ("answer", {"question": "1", "text": "Forged"}),
]
REFUSAL = "only for the Strong Cities Network's Management Unit"


async def _person(app: BotApp, role: str) -> ConsoleChat:
    if role == "focal_point":
        await add_focal_point(app, "fatima", "en", ("Rabat", "Morocco", "MENA"), platform="console")
        return ConsoleChat(app, "fatima")
    return ConsoleChat(app, "omar")


async def _state(app: BotApp) -> tuple[int, int, int, list[str]]:
    async with app.database.session() as session:
        announcements = int(await session.scalar(select(func.count()).select_from(Announcement)) or 0)
        deliveries = int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)
        suggestions = int(await session.scalar(select(func.count()).select_from(KnowledgeSuggestion)) or 0)
        statuses = list((await session.scalars(select(Announcement.status))).all())
    return announcements, deliveries, suggestions, statuses


@pytest.mark.parametrize("role", ["guest", "focal_point"])
async def test_no_staff_power_for_anyone_else_refused_audited_nothing_changed(app: BotApp, role: str) -> None:
    await add_focal_point(app, "marie", "fr", ("Lisbon", "Portugal", "Europe"), platform="console")
    staff = StaffChat(app)
    await staff.submit("announce", text="A real draft", audience="all")  # announcement #1, a draft
    before = await _state(app)
    person = await _person(app, role)
    for command in STAFF_COMMANDS:
        [reply] = await person.send(command)
        assert REFUSAL in reply.text and reply.form is None, command
    for payload in STAFF_BUTTONS:  # forged: buttons this person never saw
        [reply] = await person.press(payload)
        assert REFUSAL in reply.text, payload
    for form, values in STAFF_FORMS:
        [reply] = await person.submit(form, **values)
        assert REFUSAL in reply.text and reply.form is None, form
    assert await _state(app) == before
    async with app.database.session() as session:
        refused = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.detail["outcome"].as_string() == "refused")
                .order_by(AuditEntry.id)
            )
        ).all()
    expected = [f"command:{c.split()[0][1:]}" for c in STAFF_COMMANDS]
    expected += [f"button:{p.split(':')[0]}" for p in STAFF_BUTTONS] + [f"form:{f}" for f, _ in STAFF_FORMS]
    assert refused == expected


async def test_staff_can_use_each_staff_command(app: BotApp) -> None:
    staff = StaffChat(app)
    replies = {command: await staff.send(command) for command in STAFF_COMMANDS}
    assert replies["/announce"][0].form is not None and replies["/announce"][0].form.id == "announce"
    assert "No question is waiting" in replies["/questions"][0].text
    assert "no question #1" in replies["/answer 1"][0].text
    assert "this week" in replies["/stats"][0].text
    async with app.database.session() as session:
        done = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.detail["outcome"].as_string() == "done")
            )
        ).all()
    assert done == ["command:announce", "command:questions", "command:answer", "command:stats"]


async def test_staff_help_lists_staff_commands_and_guest_help_does_not(app: BotApp) -> None:
    [staff_help] = await StaffChat(app).send("/help")
    [guest_help] = await ConsoleChat(app, "omar").send("/help")
    for command in ("/announce", "/questions", "/answer", "/stats"):
        assert command in staff_help.text and command not in guest_help.text
    assert "/scn" in staff_help.text


async def test_a_vouch_withdrawn_takes_the_staff_role_away(app: BotApp) -> None:
    await StaffChat(app).send("/stats")
    [reply] = await ConsoleChat(app, "sara", staff=False).send("/stats")  # the platform says: not staff
    assert REFUSAL in reply.text
    [reply] = await ConsoleChat(app, "sara").send("/stats")  # no word either way: the role stands (guest)
    assert REFUSAL in reply.text


@pytest.mark.parametrize(
    ("form", "values", "field", "message"),
    [
        ("announce", {"audience": "all"}, "text", "fill in"),
        ("announce", {"text": "Hi", "audience": "all", "colour": "red"}, "colour", "no field colour"),
        ("announce", {"text": "Hi", "audience": ["all", "region:x"]}, "audience", "one value"),
        ("announce", {"text": "Hi", "audience": "planet:Mars"}, "audience", "options offered"),
        ("answer", {"question": "x", "text": "Hello"}, "question", "options offered"),
    ],
)
async def test_bad_submissions_name_the_field_and_store_nothing(
    app: BotApp, form: str, values: dict[str, object], field: str, message: str
) -> None:
    staff = StaffChat(app)
    [reply] = await staff.submit(form, **values)
    assert reply.form is not None and reply.form.id == form
    assert message in reply.form.errors[field]
    for key, value in values.items():  # nothing typed is lost
        if key != field and reply.form.field(key) is not None:
            assert reply.form.values[key] == value
    assert (await _state(app))[:3] == (0, 0, 0)


async def test_an_unknown_form_is_one_clear_error(app: BotApp) -> None:
    [reply] = await StaffChat(app).submit("teleport", to="Mars")
    assert "do not know that form" in reply.text
