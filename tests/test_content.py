"""The content check: every problem staff can make is reported as a sentence naming the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.content import ContentError, check_content, load_topics

CONTENT = Path(__file__).resolve().parent.parent / "content"

# Two small topics in the four complete languages: enough to break in every way.
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
    },
}


def write_content(root: Path) -> Path:
    """A valid two-topic content tree under root/content."""
    content = root / "content"
    for topic_id, texts in TEXTS.items():
        folder = content / "topics" / topic_id
        folder.mkdir(parents=True)
        facts = {
            "confirmed": True,
            "last_reviewed": "2026-11-20",
            "links": [
                {
                    "url": "https://strongcitiesnetwork.org/about-us/",
                    "title": {"en": "About us", "fr": "À propos"},
                }
            ],
            "related": [other for other in TEXTS if other != topic_id],
        }
        (folder / "topic.yaml").write_text(yaml.safe_dump(facts, allow_unicode=True), "utf-8")
        for lang, (title, questions, keywords) in texts.items():
            body = {
                "title": title,
                "answer": f"{title} An answer of a few words, in plain text.",
                "questions": questions,
                "keywords": keywords,
            }
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


def test_the_real_content_is_clean() -> None:
    assert check_content(CONTENT) == []


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
    assert topics["fees"].text("ru").title == "Is it free?"  # falls back to English
    assert topics["fees"].links[0].title("es") == "About us"
    assert not topics["fees"].has_language("ru")


def test_missing_english(content: Path) -> None:
    (content / "topics" / "fees" / "en.yaml").unlink()
    problem = only_problem(content)
    assert problem.startswith("content/topics/fees/en.yaml: is missing")
    with pytest.raises(ContentError, match="fees/en.yaml"):
        load_topics(content)


def test_bad_yaml(content: Path) -> None:
    (content / "topics" / "summit" / "fr.yaml").write_text("title: [unclosed\nanswer: x", "utf-8")
    problem = only_problem(content)
    assert problem.startswith("content/topics/summit/fr.yaml: is not valid YAML")
    with pytest.raises(ContentError, match="summit/fr.yaml"):
        load_topics(content)


def test_bad_link(content: Path) -> None:
    edit(
        content / "topics" / "fees" / "topic.yaml",
        links=[{"url": "http://insecure.example.org", "title": {"en": "x"}}],
    )
    assert only_problem(content) == (
        "content/topics/fees/topic.yaml: link 'http://insecure.example.org' is not a well-formed https URL"
    )


def test_duplicate_title(content: Path) -> None:
    edit(content / "topics" / "summit" / "es.yaml", title="¿Es gratis?")
    problem = only_problem(content)
    assert "content/topics/summit/es.yaml" in problem and "also the title of topic 'fees'" in problem


def test_missing_complete_language(content: Path) -> None:
    (content / "topics" / "summit" / "ar.yaml").unlink()
    problem = only_problem(content)
    assert problem.startswith("content/topics/summit/ar.yaml: is missing")


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


def test_unknown_related_topic(content: Path) -> None:
    edit(content / "topics" / "fees" / "topic.yaml", related=["nowhere"])
    assert only_problem(content) == ("content/topics/fees/topic.yaml: related topic 'nowhere' does not exist")
