"""`/peers`: the directory of focal points, filtered with buttons, and asking one for an introduction.

`/peers online hate Western Balkans` (or a free-text question that asks for peers, through
`directory_reply`) opens it filtered. Asking for an introduction confirms first, with an optional note
(form `introduction`, field `note`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.context import Context
from bot.countries import country_name
from bot.domain import directory, introductions, profiles
from bot.domain.directory import Filters
from bot.domain.people import Permission
from bot.domain.problems import Problem
from bot.forms import Field, FieldKind, Form, Submitted
from bot.i18n import N_, language_name
from bot.ids import record_id
from bot.messages import Button, Reply
from bot.routing import Router
from bot.signals import JOBS_INTRODUCTIONS

router = Router("peers")
NOTE_FORM = "introduction"
MAX_FACET_BUTTONS = 24


@dataclass(frozen=True)
class PeersButton(CallbackData, prefix="peers"):
    """A directory page (`page`), the choices of one filter (`pick`, with `facet`), or no filter."""

    action: str  # page | pick | clear
    page: int = 0
    topic: str = ""
    region: str = ""
    country: str = ""
    language: str = ""
    facet: str = ""

    @property
    def filters(self) -> Filters:
        return Filters(self.topic, self.region, self.country, self.language)

    @classmethod
    def of(cls, action: str, filters: Filters, page: int = 0, facet: str = "") -> PeersButton:
        return cls(action, page, filters.topic, filters.region, filters.country, filters.language, facet)


@dataclass(frozen=True)
class AskIntroButton(CallbackData, prefix="askintro"):
    action: str  # ask | send | note | cancel
    person: int


def limits(ctx: Context) -> introductions.Limits:
    settings = ctx.services.settings
    return introductions.Limits(settings.introductions_expire_days, settings.introductions_max_open)


def _filter_words(ctx: Context, filters: Filters) -> list[str]:
    taxonomy = ctx.services.taxonomy
    words = []
    if filters.topic:
        words.append(taxonomy.label(filters.topic, ctx.language))
    if filters.region:
        words.append(taxonomy.region_label(filters.region, ctx.language))
    if filters.country:
        words.append(country_name(filters.country, ctx.language))
    if filters.language:
        words.append(language_name(filters.language, ctx.language))
    return words


async def directory_page(ctx: Context, filters: Filters, page: int = 0, note: str = "") -> Reply:
    found = await directory.search(ctx.session, ctx.person.id, filters)
    pages = max(1, -(-len(found) // directory.PAGE))
    page = max(0, min(page, pages - 1))
    words = _filter_words(ctx, filters)
    lines = [note] if note else []
    if words:
        lines.append(
            ctx.ngettext(
                "{count} focal point matches {filters}:",
                "{count} focal points match {filters}:",
                len(found),
                filters=" · ".join(words),
            )
        )
    else:
        lines.append(
            ctx.ngettext(
                "{count} focal point in the directory:", "{count} focal points in the directory:", len(found)
            )
        )
    buttons: list[Button] = []
    if not found:
        lines.append(
            ctx._("Nobody listed matches that yet. Try fewer filters.")
            if words
            else ctx._("Nobody is listed in the directory yet.")
        )
    taxonomy = ctx.services.taxonomy
    for peer in found[page * directory.PAGE : (page + 1) * directory.PAGE]:
        lines += ["", profiles.card(peer, ctx.t, taxonomy)]
        if introductions.takes_requests(peer.profile) and peer.person is not None:
            name = introductions.first_name(peer, ctx.t)
            buttons.append(
                Button(
                    ctx._("Ask {name} for an introduction", name=name),
                    AskIntroButton("ask", peer.person.id).pack(),
                )
            )
    if pages > 1:
        lines += ["", ctx._("Page {page} of {pages}", page=page + 1, pages=pages)]
        if page > 0:
            buttons.append(Button(ctx._("Previous"), PeersButton.of("page", filters, page - 1).pack()))
        if page + 1 < pages:
            buttons.append(Button(ctx._("Next"), PeersButton.of("page", filters, page + 1).pack()))
    buttons += [
        Button(ctx._("By challenge"), PeersButton.of("pick", filters, facet="topic").pack()),
        Button(ctx._("By region"), PeersButton.of("pick", filters, facet="region").pack()),
        Button(ctx._("By country"), PeersButton.of("pick", filters, facet="country").pack()),
        Button(ctx._("By language"), PeersButton.of("pick", filters, facet="language").pack()),
    ]
    if filters.any:
        buttons.append(Button(ctx._("All focal points"), PeersButton("clear").pack()))
    mine = await profiles.profile_of(ctx.session, ctx.person.id)
    if mine is None or not mine.listed:
        lines += ["", ctx._("You are not listed yourself: send /profile to appear here.")]
    return Reply("\n".join(lines), buttons=tuple(buttons))


async def _choices(ctx: Context, pressed: PeersButton) -> Reply:
    """The values of one filter that someone listed has, each with how many."""
    filters = pressed.filters.without(pressed.facet)
    found = directory.facets(await directory.search(ctx.session, ctx.person.id, filters))
    counts = {
        "topic": found.topics,
        "region": found.regions,
        "country": found.countries,
        "language": found.languages,
    }.get(pressed.facet)
    if counts is None:
        return await directory_page(ctx, pressed.filters)
    if not counts:
        return await directory_page(ctx, filters, note=ctx._("Nobody listed has that yet."))
    shown = {value: _facet_label(ctx, pressed.facet, value) for value in counts}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], shown[item[0]]))[:MAX_FACET_BUTTONS]
    buttons = [
        Button(
            f"{shown[value]} ({count})", PeersButton.of("page", filters.having(pressed.facet, value)).pack()
        )
        for value, count in ranked
    ]
    buttons.append(Button(ctx._("Back"), PeersButton.of("page", pressed.filters).pack()))
    return Reply(ctx._("Choose one:"), buttons=tuple(buttons), edit=True)


def _facet_label(ctx: Context, facet: str, value: str) -> str:
    taxonomy = ctx.services.taxonomy
    if facet == "topic":
        return taxonomy.label(value, ctx.language)
    if facet == "region":
        return taxonomy.region_label(value, ctx.language)
    if facet == "country":
        return country_name(value, ctx.language)
    return language_name(value, ctx.language)


def _filters_in(ctx: Context, text: str) -> Filters:
    return directory.filters_in(
        text,
        ctx.language,
        ctx.services.taxonomy,
        ctx.services.regions.names,
        profiles.spoken_languages(ctx.catalogs.languages),
    )


@router.command(
    "peers",
    description=N_("The directory of focal points: /peers [challenge, region, country]"),
    private_only=True,
    needs=Permission.DIRECTORY,
)
async def peers_command(ctx: Context) -> Reply:
    words = ctx.args_plain
    if not words:
        return await directory_page(ctx, Filters())
    filters = _filters_in(ctx, words)
    if not filters.any:
        note = ctx._("I found no challenge, region, country or language in “{words}”.", words=words[:80])
        return await directory_page(ctx, Filters(), note=note)
    return await directory_page(ctx, filters)


async def directory_reply(ctx: Context, text: str) -> Reply | None:
    """The directory, when a free-text message asks for peers and the reader may see it; else None."""
    if not ctx.can(Permission.DIRECTORY) or not ctx.incoming.is_private:
        return None
    filters = directory.from_text(
        text,
        ctx.language,
        ctx.services.taxonomy,
        ctx.services.regions.names,
        profiles.spoken_languages(ctx.catalogs.languages),
    )
    if filters is None:
        return None
    return await directory_page(ctx, filters)


@router.button(PeersButton, private_only=True, needs=Permission.DIRECTORY)
async def peers_button(ctx: Context, pressed: PeersButton) -> Reply:
    if pressed.action == "pick":
        return await _choices(ctx, pressed)
    if pressed.action == "clear":
        return await directory_page(ctx, Filters())
    page = await directory_page(ctx, pressed.filters, pressed.page)
    return Reply(page.text, buttons=page.buttons, edit=True)


# ---- asking for an introduction ----------------------------------------------------------------------
async def note_form(ctx: Context, context: Mapping[str, str]) -> Form:
    return Form(
        NOTE_FORM,
        ctx._("Ask for an introduction"),
        (
            Field(
                "note",
                ctx._("A short note for them"),
                FieldKind.LONG_TEXT,
                required=False,
                max_length=introductions.MAX_NOTE,
                hint=ctx._("Why you would like to talk, for example what your city is working on."),
            ),
        ),
        ctx._("Send the request"),
        context=dict(context),
    )


async def _send(ctx: Context, person_id: int, note: str) -> Reply:
    try:
        _, target = await introductions.request(
            ctx.session,
            ctx.services.outbox,
            ctx.catalogs,
            ctx.services.taxonomy,
            ctx.person,
            person_id,
            note,
            ctx.clock.now(),
            limits(ctx),
        )
    except Problem as problem:
        return Reply(problem.text(ctx.t))
    ctx.services.signals.notify_on_commit(ctx.session, JOBS_INTRODUCTIONS)
    return Reply(
        ctx._(
            "Your request went to {name}. You will hear from me when they accept; a request stays open "
            "for {days} days.",
            name=profiles.name(target, ctx.t),
            days=limits(ctx).expire_days,
        )
    )


@router.button(AskIntroButton, private_only=True, needs=Permission.INTRODUCE)
async def ask_button(ctx: Context, pressed: AskIntroButton) -> Reply:
    if pressed.action == "cancel":
        return Reply(ctx._("Not sent."), edit=True)
    if pressed.action == "send":
        return await _send(ctx, pressed.person, "")
    try:
        target = await introductions.check_request(
            ctx.session, ctx.person, pressed.person, limits(ctx), ctx.t
        )
    except Problem as problem:
        return Reply(problem.text(ctx.t))
    if pressed.action == "note":
        return Reply("", form=await note_form(ctx, {"person": str(pressed.person)}))
    return Reply(
        ctx._(
            "Ask {name} for an introduction? They will see your profile and can accept or decline; if "
            "they accept, you both get each other's contact.",
            name=profiles.name(target, ctx.t),
        ),
        buttons=(
            Button(ctx._("Send the request"), AskIntroButton("send", pressed.person).pack()),
            Button(ctx._("Add a note first"), AskIntroButton("note", pressed.person).pack()),
            Button(ctx._("Cancel"), AskIntroButton("cancel", pressed.person).pack()),
        ),
    )


@router.form(NOTE_FORM, build=note_form, needs=Permission.INTRODUCE)
async def note_submitted(ctx: Context, submitted: Submitted) -> Reply:
    person_id = record_id(submitted.context.get("person", ""))
    if person_id is None:
        return Reply(ctx._(introductions.NOT_A_PEER))
    return await _send(ctx, person_id, submitted.text("note"))
