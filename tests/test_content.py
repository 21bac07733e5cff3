"""The content check: every problem staff can make is reported as a sentence naming the file; the
loader serves what it can and logs what it skipped."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.content import CONTENT_LANGUAGES, ContentError, load_topics, unreviewed_files
from bot.content_check import check_content
from run_bot import content_command

CONTENT = Path(__file__).resolve().parent.parent / "content"

# Two small topics in all eight languages: enough to break in every way.
TEXTS = {
    "fees": {
        "en": (
            "Is it free?",
            ["is membership free", "do we pay a fee", "how much does it cost", "any annual subscription"],
            ["free", "fee", "cost", "pay"],
        ),
        "fr": (
            "Est-ce gratuit ?",
            [
                "l'adhésion est-elle gratuite",
                "faut-il payer des frais",
                "combien ça coûte",
                "y a-t-il une cotisation",
            ],
            ["gratuit", "frais", "payer", "cotisation"],
        ),
        "es": (
            "¿Es gratis?",
            ["la membresía es gratis", "hay que pagar una cuota", "cuánto cuesta", "hay una cuota anual"],
            ["gratis", "cuota", "pagar"],
        ),
        "ar": (
            "هل العضوية مجانية؟",
            ["هل العضوية مجانية", "هل توجد رسوم", "كم التكلفة", "هل هناك اشتراك سنوي"],
            ["مجانية", "رسوم", "تكلفة", "اشتراك"],
        ),
        "ru": (
            "Это бесплатно?",
            ["членство бесплатное", "нужно ли платить взнос", "сколько это стоит", "есть ли ежегодный взнос"],
            ["бесплатно", "взнос", "стоимость", "платить"],
        ),
        "sw": (
            "Ni bure?",
            ["uanachama ni bure", "tunalipa ada", "gharama ni kiasi gani", "kuna ada ya kila mwaka"],
            ["bure", "ada", "gharama", "kulipa"],
        ),
        "ur": (
            "کیا یہ مفت ہے؟",
            ["کیا رکنیت مفت ہے", "کیا فیس دینی ہوگی", "خرچ کتنا ہے", "کیا سالانہ فیس ہے"],
            ["مفت", "فیس", "خرچ", "ادائیگی"],
        ),
        "sq": (
            "A është falas?",
            ["a është falas anëtarësimi", "a paguajmë tarifë", "sa kushton", "a ka kuotë vjetore"],
            ["falas", "tarifë", "kushton", "paguajmë"],
        ),
    },
    "summit": {
        "en": (
            "When is the summit?",
            [
                "when is the global summit",
                "where is the next summit",
                "summit dates",
                "who attends the summit",
            ],
            ["summit", "conference", "global"],
        ),
        "fr": (
            "Quand a lieu le sommet ?",
            [
                "quand a lieu le sommet mondial",
                "où est le sommet",
                "dates du sommet",
                "qui participe au sommet",
            ],
            ["sommet", "conférence"],
        ),
        "es": (
            "¿Cuándo es la cumbre?",
            [
                "cuándo es la cumbre mundial",
                "dónde es la cumbre",
                "fechas de la cumbre",
                "quién asiste a la cumbre",
            ],
            ["cumbre", "conferencia"],
        ),
        "ar": (
            "متى القمة؟",
            ["متى القمة العالمية", "أين القمة القادمة", "مواعيد القمة", "من يحضر القمة"],
            ["قمة", "مؤتمر"],
        ),
        "ru": (
            "Когда саммит?",
            ["когда глобальный саммит", "где следующий саммит", "даты саммита", "кто участвует в саммите"],
            ["саммит", "конференция"],
        ),
        "sw": (
            "Mkutano wa kilele ni lini?",
            [
                "mkutano wa kilele ni lini",
                "mkutano wa kilele ujao uko wapi",
                "tarehe za mkutano wa kilele",
                "nani anahudhuria mkutano wa kilele",
            ],
            ["kilele", "mkutano"],
        ),
        "ur": (
            "سربراہی اجلاس کب ہے؟",
            [
                "عالمی سربراہی اجلاس کب ہے",
                "اگلا اجلاس کہاں ہے",
                "اجلاس کی تاریخیں",
                "اجلاس میں کون شریک ہوتا ہے",
            ],
            ["سربراہی", "اجلاس"],
        ),
        "sq": (
            "Kur është samiti?",
            [
                "kur është samiti global",
                "ku është samiti i ardhshëm",
                "datat e samitit",
                "kush merr pjesë në samit",
            ],
            ["samit", "samiti", "konferencë"],
        ),
    },
}


ABOUT_US = "https://strongcitiesnetwork.org/about-us/"
LINK_TITLES = {
    "en": "About us",
    "fr": "À propos",
    "es": "Quiénes somos",
    "ar": "من نحن",
    "ru": "О нас",
    "sw": "Kuhusu sisi",
    "ur": "ہمارے بارے میں",
    "sq": "Rreth nesh",
}


def write_content(root: Path, languages: tuple[str, ...] = CONTENT_LANGUAGES) -> Path:
    """A valid two-topic content tree under root/content, written in `languages` (English is
    reviewed, as in the real content; the others are not)."""
    content = root / "content"
    for topic_id, texts in TEXTS.items():
        folder = content / "topics" / topic_id
        folder.mkdir(parents=True)
        facts = {
            "confirmed": True,
            "last_reviewed": "2026-11-20",
            "links": [{"url": ABOUT_US, "title": {lang: LINK_TITLES[lang] for lang in languages}}],
            "related": [other for other in TEXTS if other != topic_id],
        }
        (folder / "topic.yaml").write_text(yaml.safe_dump(facts, allow_unicode=True), "utf-8")
        for lang in languages:
            title, questions, keywords = texts[lang]
            body: dict[str, object] = {
                "title": title,
                "answer": f"{title} An answer of a few words, in plain text.",
                "questions": questions,
                "keywords": keywords,
            }
            if lang == "en":
                body["reviewed"] = True
            (folder / f"{lang}.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")
    return content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return write_content(tmp_path)


def edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def only_problem(content: Path) -> str:
    problems = check_content(content)
    assert len(problems) == 1, problems
    return problems[0]


def warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_the_real_content_is_clean() -> None:
    assert check_content(CONTENT) == []


def test_the_real_content_loads_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        topics = load_topics(CONTENT)
    assert warnings(caplog) == ""
    assert all(topic.has_language(lang) for topic in topics.values() for lang in CONTENT_LANGUAGES)


def test_only_english_is_marked_reviewed_in_the_real_content() -> None:
    # English is the team's source text; no other language file has had a native reviewer yet.
    unreviewed = unreviewed_files(CONTENT)
    topics = load_topics(CONTENT)
    assert len(unreviewed) == len(topics) * (len(CONTENT_LANGUAGES) - 1)
    assert not any(path.endswith("/en.yaml") for path in unreviewed)


# Words that read as "yes" or "no" when they open an answer. An answer must stand on its own whatever
# the polarity of the question ("is it free?" / "is it paid?"), so none may start with one.
YES_NO = {
    "en": {"yes", "no", "yeah", "nope"},
    "fr": {"oui", "non"},
    "es": {"sí", "no"},  # not "si": without the accent it is "if"
    "ar": {"نعم", "لا", "كلا", "أجل", "بلى"},
    "ru": {"да", "нет"},
    "sw": {"ndiyo", "ndio", "hapana", "naam"},
    "ur": {"جی", "ہاں", "نہیں", "جیہاں"},
    "sq": {"po", "jo"},
}


def test_no_answer_opens_with_yes_or_no() -> None:
    openers = []
    for path in sorted(CONTENT.glob("topics/*/*.yaml")):
        if path.stem not in YES_NO:
            continue
        answer = yaml.safe_load(path.read_text("utf-8"))["answer"]
        first = re.match(r"[^\W\d_]+", answer.strip())
        if first and first.group(0).lower() in YES_NO[path.stem]:
            openers.append(f"{path.parent.name}/{path.name}: {answer.strip()[:40]!r}")
    assert openers == []


def test_fixture_is_clean_and_loads(content: Path) -> None:
    assert check_content(content) == []
    topics = load_topics(content)
    assert topics["fees"].text("fr").title == "Est-ce gratuit ?"
    assert topics["fees"].text("sq").title == "A është falas?"
    assert topics["fees"].links[0].title("ur") == "ہمارے بارے میں"
    assert topics["fees"].related == ("summit",)


def test_missing_language_is_reported_and_falls_back_to_english(content: Path) -> None:
    (content / "topics" / "summit" / "ar.yaml").unlink()
    problem = only_problem(content)
    assert problem.startswith("content/topics/summit/ar.yaml: is missing (every topic is written in all of")
    summit = load_topics(content)["summit"]
    assert not summit.has_language("ar")
    assert summit.text("ar").title == "When is the summit?"


def test_missing_english_skips_the_topic_and_serves_the_rest(
    content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (content / "topics" / "fees" / "en.yaml").unlink()
    problem = only_problem(content)
    assert problem.startswith("content/topics/fees/en.yaml: is missing")
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        topics = load_topics(content)
    assert list(topics) == ["summit"]
    assert topics["summit"].related == ()  # the skipped topic is not offered as a next step
    logged = warnings(caplog)
    assert "content/topics/fees/en.yaml: is missing" in logged
    assert "skipped topic 'fees'" in logged
    assert "related topic 'fees' is not loaded" in logged


def test_bad_yaml_skips_that_language_only(content: Path, caplog: pytest.LogCaptureFixture) -> None:
    (content / "topics" / "summit" / "fr.yaml").write_text("title: [unclosed\nanswer: x", "utf-8")
    problem = only_problem(content)
    assert problem.startswith("content/topics/summit/fr.yaml: is not valid YAML")
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        topics = load_topics(content)
    assert set(topics) == {"fees", "summit"}
    assert not topics["summit"].has_language("fr") and topics["summit"].has_language("es")
    assert topics["fees"].has_language("fr")
    logged = warnings(caplog)
    assert "content/topics/summit/fr.yaml: is not valid YAML" in logged
    assert "skipped content/topics/summit/fr.yaml" in logged


def test_broken_topic_yaml_skips_the_topic(content: Path, caplog: pytest.LogCaptureFixture) -> None:
    edit(content / "topics" / "fees" / "topic.yaml", confirmed="yes")
    assert only_problem(content) == "content/topics/fees/topic.yaml: 'confirmed' must be true or false"
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        topics = load_topics(content)
    assert list(topics) == ["summit"]
    assert "fees/topic.yaml: 'confirmed' must be true or false" in warnings(caplog)


def test_a_wrong_field_in_a_language_file_names_file_and_key(
    content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edit(content / "topics" / "fees" / "sw.yaml", keywords="bure")
    assert only_problem(content) == (
        "content/topics/fees/sw.yaml: 'keywords' must be a list of non-empty texts"
    )
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        fees = load_topics(content)["fees"]
    assert not fees.has_language("sw") and fees.text("sw").title == "Is it free?"
    assert "content/topics/fees/sw.yaml: 'keywords'" in warnings(caplog)


def test_nothing_loadable_is_an_error(content: Path) -> None:
    for topic_id in TEXTS:
        (content / "topics" / topic_id / "en.yaml").write_text("just a sentence", "utf-8")
    with pytest.raises(ContentError, match="en.yaml"):
        load_topics(content)


def test_bad_link_is_dropped(content: Path, caplog: pytest.LogCaptureFixture) -> None:
    edit(
        content / "topics" / "fees" / "topic.yaml",
        links=[{"url": "http://insecure.example.org", "title": {"en": "x"}}],
    )
    assert only_problem(content) == (
        "content/topics/fees/topic.yaml: link 'http://insecure.example.org' is not a well-formed https URL"
    )
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        fees = load_topics(content)["fees"]
    assert fees.links == () and fees.has_language("fr")
    assert "not a well-formed https URL" in warnings(caplog)


def test_link_without_a_title_in_a_language(content: Path) -> None:
    titles = {lang: title for lang, title in LINK_TITLES.items() if lang != "sw"}
    edit(content / "topics" / "fees" / "topic.yaml", links=[{"url": ABOUT_US, "title": titles}])
    assert only_problem(content) == f"content/topics/fees/topic.yaml: link {ABOUT_US} has no title in sw"
    link = load_topics(content)["fees"].links[0]
    assert link.titles["sw"] == link.title("sw") == "About us"  # English, filled in at load


def test_link_title_in_an_unknown_language(content: Path) -> None:
    edit(
        content / "topics" / "fees" / "topic.yaml",
        links=[{"url": ABOUT_US, "title": {**LINK_TITLES, "sp": "Quiénes somos"}}],
    )
    assert only_problem(content) == (
        f"content/topics/fees/topic.yaml: link {ABOUT_US} has a title in unknown language 'sp'"
    )


def test_duplicate_title(content: Path) -> None:
    edit(content / "topics" / "summit" / "es.yaml", title="¿Es gratis?")
    problem = only_problem(content)
    assert "content/topics/summit/es.yaml" in problem and "also the title of topic 'fees'" in problem


def test_example_question_answered_by_another_topic(content: Path) -> None:
    path = content / "topics" / "summit" / "en.yaml"
    edit(
        path,
        questions=[
            "when is the global summit",
            "where is the next summit",
            "summit dates",
            "is membership free",
        ],
    )
    problem = only_problem(content)
    assert problem.startswith(
        "content/topics/summit/en.yaml: example question 'is membership free' is answered by 'fees'"
    )


def test_wrong_field_types_are_named(content: Path) -> None:
    edit(content / "topics" / "fees" / "es.yaml", questions="only one", title="x" * 60)
    edit(content / "topics" / "fees" / "topic.yaml", confirmed="yes", related=["nowhere"])
    problems = check_content(content)
    assert any("fees/es.yaml: 'questions' must be a list" in p for p in problems), problems
    assert any("fees/es.yaml: 'title' has 60 characters" in p for p in problems), problems
    assert any("fees/topic.yaml: 'confirmed' must be true or false" in p for p in problems)


def test_unknown_related_topic(content: Path, caplog: pytest.LogCaptureFixture) -> None:
    edit(content / "topics" / "fees" / "topic.yaml", related=["nowhere", "summit"])
    assert only_problem(content) == ("content/topics/fees/topic.yaml: related topic 'nowhere' does not exist")
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        fees = load_topics(content)["fees"]
    assert fees.related == ("summit",)
    assert "content/topics/fees/topic.yaml: related topic 'nowhere' is not loaded" in warnings(caplog)


def test_review_flag(content: Path) -> None:
    fr = content / "topics" / "fees" / "fr.yaml"
    edit(fr, reviewed=True, reviewed_by="Amélie", last_reviewed="2026-11-30")
    assert check_content(content) == []
    text = load_topics(content)["fees"].text("fr")
    assert text.reviewed and text.reviewed_by == "Amélie" and str(text.last_reviewed) == "2026-11-30"
    assert not load_topics(content)["fees"].text("ar").reviewed  # no key: not reviewed
    unreviewed = unreviewed_files(content)
    assert len(unreviewed) == 2 * 7 - 1
    assert "content/topics/fees/fr.yaml" not in unreviewed and "content/topics/fees/ar.yaml" in unreviewed
    assert not any(path.endswith("/en.yaml") for path in unreviewed)


def test_review_flag_that_is_not_a_boolean_names_file_and_key(content: Path) -> None:
    fr = content / "topics" / "fees" / "fr.yaml"
    edit(fr, reviewed="oui", last_reviewed="last week")
    problems = check_content(content)
    assert problems == [
        "content/topics/fees/fr.yaml: 'reviewed' must be true or false, found 'oui'",
        "content/topics/fees/fr.yaml: 'last_reviewed' must be an ISO date such as 2026-11-20",
    ]
    text = load_topics(content)["fees"].text("fr")  # the text itself is fine: still served
    assert text.title == "Est-ce gratuit ?" and not text.reviewed
    assert "content/topics/fees/fr.yaml" in unreviewed_files(content)


def test_content_check_lists_unreviewed_files_without_failing(
    content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(bot_data_dir=tmp_path / "data", bot_content_dir=content, _env_file=None)  # type: ignore[call-arg]
    assert content_command(settings, argparse.Namespace(action="check")) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "14 language file(s) not reviewed by a native speaker:"
    assert "  content/topics/fees/ar.yaml" in out and "  content/topics/summit/sq.yaml" in out
    assert out[-1] == "content check: 0 problem(s)"
    (content / "topics" / "summit" / "ar.yaml").unlink()
    assert content_command(settings, argparse.Namespace(action="check")) == 1
