"""The privacy registry: every table that points at a person is exported and erased by some part."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import BotApp
from bot.domain import privacy
from bot.storage.delivery import Delivery
from bot.storage.models import Base
from tests.harness import ConsoleChat, StaffChat
from tests.people import add_focal_point

QUESTION = "Faut-il prévoir un visa pour venir à la réunion de Lisbonne en mars ?"


def test_every_foreign_key_to_a_person_is_covered_by_a_privacy_part() -> None:
    pointing = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == "person" and key.column.name == "id"
    }
    assert pointing, "no table points at person.id: the check would prove nothing"
    missing = pointing - privacy.covered_columns()
    assert not missing, f"register these with bot.domain.privacy so /mydata and /forget cover them: {missing}"


def test_parts_have_unique_names_and_cover_only_real_columns() -> None:
    columns = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns}
    parts = privacy.parts()
    assert len({p.name for p in parts}) == len(parts)
    assert {c for p in parts for c in p.covers} <= columns


async def test_forget_also_erases_the_staff_copies_and_edits_them(app: BotApp) -> None:
    await StaffChat(app).send("/start")  # a staff member, told of forwarded questions
    await add_focal_point(app, "marie", "fr", ("Lisbon", "Portugal", "Europe"), platform="console")
    marie = ConsoleChat(app, "marie")
    [unsure] = await marie.send(QUESTION)
    await marie.press(
        next(b.payload for b in unsure.buttons if b.payload and b.payload.startswith("ask:")) or ""
    )
    async with app.database.session() as session:  # the staff copy went out
        post = (await session.scalars(select(Delivery).where(Delivery.key.like("question:1:staff:%")))).one()
        post.status, post.platform_message_id = "sent", "sara:1"
    await marie.send("/forget")
    await marie.press_label("Oui, tout effacer")
    async with app.database.session() as session:
        rows = {d.key: d for d in (await session.scalars(select(Delivery))).all()}
    staff_copy = rows["question:1:staff:console:sara"]
    assert staff_copy.payload == {"erased": True} and QUESTION not in str(staff_copy.payload)
    edit = rows["question:1:staff:console:sara:erased"]
    assert edit.replace_key == "question:1:staff:console:sara" and "has left" in edit.payload["text"]
    assert QUESTION not in str([d.payload for d in rows.values()])
