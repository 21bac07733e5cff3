"""Becoming a focal point: /apply with staff review, invitations, roles, and the member registry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import Settings
from bot.countries import recognise
from bot.domain import membership
from bot.storage.audit import AuditEntry
from bot.storage.database import Database
from bot.storage.delivery import Delivery
from bot.storage.membership import Invitation, MembershipApplication
from bot.storage.people import City, Person
from run_bot import build_app
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point

GOOD: dict[str, Any] = {
    "authority": "Mombasa County",
    "country": "Kenia",
    "level": "county",
    "population": "1 200 000",
    "applicant_name": "Amina Yusuf",
    "applicant_role": "Head of social cohesion",
    "email": "amina@mombasa.go.ke",
    "motivation": "We want to learn from other cities.",
    "heard_from": "A conference in Nairobi",
}


async def person(app: BotApp, name: str) -> Person:
    async with app.database.session() as session:
        found = await session.scalar(select(Person).where(Person.display_name == name))
    assert found is not None
    return found


async def applied(app: BotApp, name: str = "amina", **changes: Any) -> ConsoleChat:
    chat = ConsoleChat(app, name)
    [summary] = await chat.submit("apply", **{**GOOD, **changes})
    assert "Please check your application" in summary.text, summary.text
    [sent] = await chat.press_label("Send my application")
    assert "Thank you" in sent.text
    return chat


# ---- countries ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "language"),
    [("Kenya", "en"), ("Kenia", "es"), ("Кения", "ru"), ("كينيا", "ar"), ("kenya", "fr"), ("KE", "sw")],
)
def test_kenya_is_recognised_in_every_language(text: str, language: str) -> None:
    assert recognise(text, language) == "KE"


@pytest.mark.parametrize(
    ("text", "language"),
    [("côte d'ivoire", "en"), ("Cote dIvoire", "fr"), ("COTE D’IVOIRE", "es"), ("Кот-д’Ивуар", "ru")],
)
def test_names_are_matched_without_accents_case_or_punctuation(text: str, language: str) -> None:
    assert recognise(text, language) == "CI"


def test_unknown_and_ambiguous_names_are_not_guessed() -> None:
    assert recognise("Atlantis") is None
    assert recognise("Congo", "fr") is None  # two countries: the form asks which


# ---- applying --------------------------------------------------------------------------------------------
async def test_apply_review_and_approve_makes_a_focal_point_of_a_new_member(app: BotApp) -> None:
    staff = StaffChat(app)
    await staff.send("/start")
    chat = ConsoleChat(app, "amina")
    [opened] = await chat.send("/apply")
    assert opened.form is not None and [f.id for f in opened.form.fields] == [
        "authority",
        "country",
        "level",
        "population",
        "applicant_name",
        "applicant_role",
        "email",
        "motivation",
        "heard_from",
    ]
    [summary] = await chat.submit("apply", **GOOD)
    assert "Mombasa County (County or district), Kenya" in summary.text and "1,200,000" in summary.text
    await chat.press_label("Send my application")
    assert (await person(app, "amina")).role == "applicant"
    [status] = await chat.send("/status")
    assert "being reviewed" in status.text and "Withdraw" in chat.buttons()
    [listing] = await staff.send("/applications")
    assert "#1 Mombasa County (KE), Amina Yusuf" in listing.text
    [card] = await staff.press_label("Review #1")
    assert "Application #1: Mombasa County, Kenya" in card.text and "Approve" in staff.buttons()
    [approved] = await staff.press_label("Approve")
    assert "Mombasa County, Kenya is a member, and Amina Yusuf is its focal point" in approved.text
    amina = await person(app, "amina")
    async with app.database.session() as session:
        city = await session.get(City, amina.city_id)
        told = await session.scalar(select(Delivery).where(Delivery.key.like("application:1:outcome:%")))
        edited = await session.scalar(
            select(Delivery).where(Delivery.replace_key == "application:1:card:console:sara")
        )
    assert amina.role == "focal_point" and city is not None
    assert (city.country, city.level, city.region, city.time_zone, city.status) == (
        "KE",
        "county",
        "Africa",
        "Africa/Nairobi",
        "member",
    )
    assert told is not None and told.recipient == "amina" and "approved" in told.payload["text"]
    assert edited is not None and "approved by sara" in edited.payload["text"]
    [again] = await staff.press("review:approve:1")
    assert "already been decided" in again.text
    [member] = await chat.send("/apply")
    assert "nothing for you to apply for" in member.text


async def test_decline_and_request_information_ask_for_a_comment_the_applicant_reads(app: BotApp) -> None:
    staff = StaffChat(app)
    chat = await applied(app)
    [form] = await staff.press("review:info:1")
    assert form.form is not None and form.form.id == "review"
    [bad] = await staff.submit("review", comment="  ")
    assert bad.form is not None and "comment" in bad.form.errors
    [asked] = await staff.submit("review", comment="Which department will lead the work?")
    assert "asked for more information" in asked.text
    [status] = await chat.send("/status")
    assert "Which department will lead the work?" in status.text
    await chat.press_label("Edit and send again")
    assert chat.form().values["authority"] == "Mombasa County" and chat.form().values["country"] == "Kenya"
    await chat.submit("apply", **{**GOOD, "motivation": "The department of cohesion leads it."})
    await chat.press_label("Send my application")
    async with app.database.session() as session:
        application = await session.get(MembershipApplication, 1)
    assert application is not None and application.status == "pending"
    assert application.motivation == "The department of cohesion leads it."
    await staff.press("review:decline:1")
    await staff.submit("review", comment="The network is for sub-national authorities.")
    assert (await person(app, "amina")).role == "guest"
    async with app.database.session() as session:
        outcomes = (
            await session.scalars(
                select(Delivery.payload)
                .where(Delivery.key.like("application:1:outcome:%"))
                .order_by(Delivery.id)
            )
        ).all()
    assert "more information" in outcomes[0]["text"] and "not accepted" in outcomes[1]["text"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "amina at mombasa"}, "email", "email address"),
        ({"country": "Atlantis"}, "country", "do not know that country"),
        ({"country": "Congo"}, "country", "Which country do you mean"),
        ({"population": "many"}, "population", "number"),
        ({"population": "-5"}, "population", "number of inhabitants"),
        ({"level": "galaxy"}, "level", "options offered"),
        ({"motivation": ""}, "motivation", "fill in"),
    ],
)
async def test_bad_answers_name_the_field_and_keep_what_was_typed(
    app: BotApp, changes: dict[str, Any], field: str, message: str
) -> None:
    chat = ConsoleChat(app, "amina")
    [reply] = await chat.submit("apply", **{**GOOD, **changes})
    assert reply.form is not None and message in reply.form.errors[field], reply.form.errors
    assert reply.form.values["applicant_name"] == "Amina Yusuf"
    async with app.database.session() as session:
        assert (await session.scalars(select(MembershipApplication))).all() == []


async def test_errors_are_in_the_applicants_language(app: BotApp) -> None:
    chat = ConsoleChat(app, "amina", language_hint="fr")
    [reply] = await chat.submit("apply", **{**GOOD, "email": "nope"})
    assert (
        reply.form is not None
        and reply.form.errors["email"] != "Please write an email address, such as name@city.gov."
    )


async def test_a_second_application_and_one_from_a_focal_point_are_refused(app: BotApp) -> None:
    chat = await applied(app)
    [second] = await chat.submit("apply", **{**GOOD, "authority": "Kilifi County"})
    assert second.form is not None and "already have an application" in second.form.errors["authority"]
    [again] = await chat.send("/apply")
    assert "being reviewed" in again.text  # the status instead of a new form
    await add_focal_point(app, "fatima", "en", ("Rabat", "MA", "MENA"), platform="console")
    [refused] = await ConsoleChat(app, "fatima").submit("apply", **GOOD)
    assert "nothing for you to apply for" in refused.text


async def test_an_application_for_a_city_already_applied_for_is_flagged_on_the_card(app: BotApp) -> None:
    await StaffChat(app).send("/start")
    await applied(app, "amina")
    await applied(app, "omar", applicant_name="Omar", email="omar@mombasa.go.ke")
    async with app.database.session() as session:
        card = await session.scalar(select(Delivery).where(Delivery.key == "application:2:card:console:sara"))
    assert card is not None and "Another application for this city is open: #1" in card.payload["text"]


async def test_withdrawing_gives_the_guest_role_back(app: BotApp) -> None:
    await StaffChat(app).send("/start")  # a staff member, who sees the card
    chat = await applied(app)
    await chat.send("/status")
    [done] = await chat.press_label("Withdraw")
    assert "withdrawn" in done.text and (await person(app, "amina")).role == "guest"
    async with app.database.session() as session:
        card = await session.scalar(
            select(Delivery).where(Delivery.key.like("application:1:card:%:withdrawn:%"))
        )
    assert card is not None and "withdrawn by the applicant" in card.payload["text"]


async def test_the_walk_survives_a_restart_and_resumes_a_day_later(
    app: BotApp, settings: Settings, sqlite_database: Database, clock: FakeClock
) -> None:
    chat = ConsoleChat(app, "amina", native_forms=False)
    [first] = await chat.send("/apply")
    assert "Name of your city" in first.text
    await chat.send("Mombasa County")
    [level] = await chat.send("Кения")  # the country in Russian, typed on an English form
    assert "What kind of authority" in level.text
    clock.advance(days=1)
    restarted = build_app(settings, clock=clock, database=sqlite_database, flood_limit=False)
    later = ConsoleChat(restarted, "amina", native_forms=False)
    [back, ask] = await later.send("/apply")
    assert "Welcome back" in back.text and "What kind of authority" in ask.text
    await later.press_label("County or district")
    for answer in ("1200000", "Amina Yusuf", "Head of cohesion", "amina@mombasa.go.ke", "To learn.", "-"):
        await later.send(answer)
    [summary] = later.last
    assert "Please check your application" in summary.text and "Kenya" in summary.text


# ---- invitations ----------------------------------------------------------------------------------------
async def invitation(app: BotApp, city: tuple[str, str, str] = ("Saida", "LB", "MENA")) -> str:
    staff = StaffChat(app)
    await add_focal_point(app, "existing", "ar", city, platform="console")  # the city exists
    await staff.send("/invite")
    city_id = staff.form().fields[0].choices[0].value
    [made] = await staff.submit("invite", city=city_id, expected_name="Rana")
    assert "valid once until" in made.text
    return made.text.split("/start ")[1].strip()


async def test_an_invitation_is_used_once_and_makes_a_focal_point(app: BotApp) -> None:
    token = await invitation(app)
    [welcome] = await ConsoleChat(app, "rana").send(f"/start {token}")
    assert "You are now a focal point of Saida, Lebanon" in welcome.text
    rana = await person(app, "rana")
    assert rana.role == "focal_point" and rana.city_id is not None
    [used] = await ConsoleChat(app, "mallory").send(f"/start {token}")
    assert "already been used" in used.text and (await person(app, "mallory")).role == "guest"
    [unknown] = await ConsoleChat(app, "eve").send("/start made-up-code")
    assert "not valid or has expired" in unknown.text
    async with app.database.session() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert "invitation_made" in actions and "invitation_used" in actions
    assert actions.count("invitation_refused") == 2


async def test_an_invitation_expires_after_a_week_and_can_be_revoked(app: BotApp, clock: FakeClock) -> None:
    token = await invitation(app)
    clock.advance(days=7, seconds=1)
    [expired] = await ConsoleChat(app, "rana").send(f"/start {token}")
    assert "not valid or has expired" in expired.text
    staff = StaffChat(app)
    await staff.send("/invite")
    [made] = await staff.submit("invite", city=staff.form().fields[0].choices[0].value)
    second = made.text.split("/start ")[1].strip()
    [listing] = await staff.send("/invitations")
    assert "#2 Saida, Lebanon" in listing.text and "#1" not in listing.text  # the expired one is gone
    [revoked] = await staff.press_label("Revoke #2")
    assert "revoked" in revoked.text
    [refused] = await ConsoleChat(app, "rana").send(f"/start {second}")
    assert "not valid or has expired" in refused.text and (await person(app, "rana")).role == "guest"


@pytest.mark.postgres
async def test_two_people_opening_one_invitation_at_once_make_one_focal_point(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    app = build_app(settings, clock=clock, database=database, flood_limit=False)
    token = await invitation(app)
    replies = await asyncio.gather(
        ConsoleChat(app, "rana").send(f"/start {token}"), ConsoleChat(app, "rami").send(f"/start {token}")
    )
    texts = sorted(reply[0].text for reply in replies)
    assert sum("You are now a focal point" in text for text in texts) == 1
    assert sum("already been used" in text for text in texts) == 1
    async with app.database.session() as session:
        used = (await session.scalars(select(Invitation.used_by_id))).all()
        focal = (await session.scalars(select(Person.display_name).where(Person.role == "focal_point"))).all()
    assert len(used) == 1 and sorted(focal) in (["existing", "rana"], ["existing", "rami"])


async def test_staff_cannot_use_an_invitation(app: BotApp) -> None:
    token = await invitation(app)
    [refused] = await StaffChat(app, "boss").send(f"/start {token}")
    assert "Staff cannot become focal points" in refused.text


# ---- roles ---------------------------------------------------------------------------------------------
STAFF_COMMANDS = ["/applications", "/invite", "/invitations", "/cities", "/city add", "/people", "/person 1"]
STAFF_BUTTONS = [
    "review:approve:1",
    "review:decline:1",
    "invitation:revoke:1",
    "city:edit:1",
    "person:role:1",
]


@pytest.mark.parametrize("role", ["guest", "applicant", "focal_point"])
async def test_only_staff_review_invite_and_manage_the_registry(app: BotApp, role: str) -> None:
    await applied(app, "amina")  # application #1
    if role == "focal_point":
        await add_focal_point(app, "who", "en", ("Rabat", "MA", "MENA"), platform="console")
    elif role == "applicant":
        await applied(app, "who", applicant_name="Who", email="who@x.org", authority="Kilifi")
    chat = ConsoleChat(app, "who")
    for command in STAFF_COMMANDS:
        [reply] = await chat.send(command)
        assert "only for the Strong Cities Network" in reply.text, command
    for payload in STAFF_BUTTONS:
        [reply] = await chat.press(payload)
        assert "only for the Strong Cities Network" in reply.text, payload
    [forged] = await chat.press("application:withdraw:1")  # someone else's application
    assert "no longer here" in forged.text or "nothing for you to apply for" in forged.text
    async with app.database.session() as session:
        application = await session.get(MembershipApplication, 1)
    assert application is not None and application.status == "pending"


async def test_help_shows_what_each_role_allows(app: BotApp) -> None:
    [guest] = await ConsoleChat(app, "omar").send("/help")
    await add_focal_point(app, "fatima", "en", ("Rabat", "MA", "MENA"), platform="console")
    [focal] = await ConsoleChat(app, "fatima").send("/help")
    [staff] = await StaffChat(app).send("/help")
    assert "/apply" in guest.text and "/profile" not in guest.text and "/invite" not in guest.text
    assert "/profile" in focal.text and "/invite" not in focal.text
    assert "/invite" in staff.text and "/applications" in staff.text and "/cities" in staff.text


async def test_staff_change_a_role_and_detach_a_focal_point(app: BotApp) -> None:
    await add_focal_point(app, "fatima", "en", ("Rabat", "MA", "MENA"), platform="console")
    await ConsoleChat(app, "omar").send("/start")
    omar = await person(app, "omar")
    staff = StaffChat(app)
    await staff.send(f"/person {omar.id}")
    await staff.press_label("Change the role")
    rabat = staff.form().field("city")
    assert rabat is not None
    [missing] = await staff.submit("role", role="focal_point")
    assert missing.form is not None and "needs a city" in missing.form.errors["city"]
    [card] = await staff.submit("role", role="focal_point", city=rabat.choices[0].value)
    assert "Role: focal point" in card.text and "Rabat, Morocco" in card.text
    [detached] = await staff.press_label("Detach from the city")
    assert "Role: guest" in detached.text
    async with app.database.session() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.in_(["role_changed", "detached"]))
            )
        ).all()
    assert actions.count("detached") == 1 and actions.count("role_changed") >= 1


async def test_profile_is_for_focal_points_and_never_creates_a_city(app: BotApp) -> None:
    [refused] = await ConsoleChat(app, "omar").send("/profile")
    assert "verified focal points" in refused.text
    await add_focal_point(app, "fatima", "en", ("Rabat", "MA", "MENA"), platform="console")
    chat = ConsoleChat(app, "fatima")
    [shown] = await chat.send("/profile")
    assert "Rabat, Morocco · MENA" in shown.text
    [editing] = await chat.press_label("Edit my profile")
    assert editing.form is not None and editing.form.field("city") is None  # the city is never typed
    [saved] = await chat.submit("profile", display_name="Fatima El Idrissi", languages=["fr", "ar"])
    assert "Fatima El Idrissi\nRabat, Morocco · MENA" in saved.text
    async with app.database.session() as session:
        assert len((await session.scalars(select(City))).all()) == 1


# ---- the registry ---------------------------------------------------------------------------------------
async def test_staff_add_and_edit_cities_with_zones_from_the_country(app: BotApp) -> None:
    staff = StaffChat(app)
    [several] = await staff.submit("city", name="Lisbon", country="Portugal", level="capital")
    assert several.form is not None and several.form.errors["time_zone"].split(": ")[1].startswith(
        "Europe/Lisbon"
    )
    [card] = await staff.submit(
        "city", name="Lisbon", country="Portugal", level="capital", time_zone="Europe/Lisbon"
    )
    assert "#1 Lisbon, Portugal" in card.text and "Europe" in card.text
    [bad_zone] = await staff.submit(
        "city", name="Nairobi", country="KE", level="capital", time_zone="Mars/Base"
    )
    assert bad_zone.form is not None and "time_zone" in bad_zone.form.errors
    [nairobi] = await staff.submit(
        "city", name="Nairobi", country="Кения", level="capital", member_since="2016"
    )
    assert "Africa/Nairobi" in nairobi.text and "2016" in nairobi.text
    await staff.press("city:edit:2")
    assert staff.form().values["country"] == "KE"
    [edited] = await staff.submit(
        "city", context={"city": "2"}, name="Nairobi City County", country="KE", level="county"
    )
    assert "#2 Nairobi City County, Kenya" in edited.text
    [listed] = await staff.send("/cities nairobi")
    assert "Nairobi City County" in listed.text and "Lisbon" not in listed.text
    [former] = await staff.press("city:former:2")
    assert "status: former" in former.text


async def test_cities_import_checks_every_row_and_is_idempotent(app: BotApp) -> None:
    from bot.domain import cities

    regions = app.services.regions
    good = (
        "name,country,level,region,time_zone,member_since\n"
        "Mombasa,KE,county,Africa,,2017\n"
        "Lisbon,PT,capital,,Europe/Lisbon,\n"
        "Saida,LB,city,MENA,Asia/Beirut,2018\n"
    )
    rows = cities.parse_csv(good, regions, 2026)
    async with app.database.session() as session:
        first = await cities.import_rows(session, rows, app.services.clock.now())
    async with app.database.session() as session:
        second = await cities.import_rows(session, rows, app.services.clock.now())
        exported = await cities.export_csv(session)
    assert (first.added, second.added, second.unchanged) == (3, 0, 3)
    assert exported.splitlines()[1] == "Lisbon,PT,capital,Europe,Europe/Lisbon,"
    assert cities.parse_csv(exported, regions, 2026) == sorted(rows, key=lambda r: r.name)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("name,country\nMombasa,KE\n", "line 1: the header must be"),
        (
            "name,country,level,region,time_zone,member_since\nMombasa,Kenya,county,,,\n",
            "line 2, column country",
        ),
        (
            "name,country,level,region,time_zone,member_since\nA,KE,city,,,\nB,US,city,,,\n",
            "line 3, column time_zone",
        ),
        ("name,country,level,region,time_zone,member_since\nA,KE,village,,,\n", "line 2, column level"),
        ("name,country,level,region,time_zone,member_since\nA,KE,city,Mars,,\n", "line 2, column region"),
        ("name,country,level,region,time_zone,member_since\nA,KE,city,,,19\n", "line 2, column member_since"),
        (
            "name,country,level,region,time_zone,member_since\nA,KE,city,,,\na,ke,city,,,\n",
            "line 3, column name",
        ),
        ("name,country,level,region,time_zone,member_since\nA,KE,city\n", "line 2: 3 columns"),
    ],
)
def test_a_bad_csv_names_its_line_and_column(settings: Settings, csv_text: str, message: str) -> None:
    from bot.domain import cities
    from bot.regions import load_regions

    with pytest.raises(cities.CsvProblem) as raised:
        cities.parse_csv(csv_text, load_regions(settings.bot_content_dir), 2026)
    assert str(raised.value).startswith(message), str(raised.value)


@pytest.mark.slow
def test_cities_import_and_export_from_the_command_line(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data")}
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("name,country,level,region,time_zone,member_since\nMombasa,KE,county,,,2017\n", "utf-8")
    bad.write_text(
        "name,country,level,region,time_zone,member_since\nSaida,LB,city,,,\nX,XX,city,,,\n", "utf-8"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(root / "run_bot.py"), "cities", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    assert run("import", str(good)).stdout.strip() == "cities: 1 added, 0 updated, 0 unchanged"
    assert run("import", str(good)).stdout.strip() == "cities: 0 added, 0 updated, 1 unchanged"
    failed = run("import", str(bad))
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        f"error: {bad}: line 3, column country: 'XX' is not an ISO 3166 alpha-2 country code (such as KE) "
        "(nothing was imported)"
    )
    assert run("export").stdout.splitlines() == [
        "name,country,level,region,time_zone,member_since",
        "Mombasa,KE,county,Africa,Africa/Nairobi,2017",
    ]


async def test_joining_topics_offer_an_apply_button(app: BotApp) -> None:
    [answer] = await ConsoleChat(app, "omar").send("how can my city join the network?")
    assert any(button.label == "Apply to join" for button in answer.buttons)
    [form] = await ConsoleChat(app, "omar").press("menu:apply")
    assert form.form is not None and form.form.id == "apply"


async def test_approving_in_a_country_with_several_zones_asks_staff_for_the_zone(app: BotApp) -> None:
    staff = StaffChat(app)
    await applied(app, country="Portugal", authority="Porto", email="a@porto.pt")
    [ask] = await staff.press("review:approve:1")
    assert ask.form is not None and ask.form.id == "approve"
    zones = [c.value for c in ask.form.fields[0].choices]
    assert zones[0] == "Europe/Lisbon" and "Atlantic/Azores" in zones
    [done] = await staff.submit("approve", time_zone="Europe/Lisbon")
    assert "Porto, Portugal is a member" in done.text
    _ = membership  # the domain module under test
