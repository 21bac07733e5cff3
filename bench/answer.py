"""Answer benchmark: detection + retrieval per question, knowledge-base load, and accuracy.

`run_answer_bench()` is wired into `make bench` by bench/run.py. Timings are perf_counter over the
evaluation questions of both splits, repeated; they are figures to read, never asserted in a test.

Accuracy is reported per split: `qa_topic_accuracy[_<lang>]` on the held-out split
(tests/data/qa_heldout, never tuned against: the honest figure) and `qa_topic_accuracy_tuning[_<lang>]`
on the tuning split (tests/data/qa). `offtopic_confident_rate` is the share of off-topic and small-talk
lines (tests/data/offtopic.yaml) that the knowledge base alone answers confidently with some topic.
What the bot does with them, small talk and off-topic cues first (`bot.smalltalk`), is
`qa_offtopic_answered` (off-topic lines still answered with a topic; goal at most 0.05) and
`qa_smalltalk_ok` (small-talk lines recognised with their intent; goal at least 0.95).
`qa_first_contact_language` is the share of short first messages (at most four words, from every
evaluation file) answered in their language by a person the bot does not know, with no platform hint.
The timed path is the free-text handler's: small talk, detection, retrieval, off-topic decision.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bot.content import CONTENT_LANGUAGES
from bot.knowledge import KnowledgeBase
from bot.language import SUPPORTED, LanguageDetector
from bot.smalltalk import load_smalltalk
from bot.textnorm import fold, strip_noise, words

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SPLITS = {"heldout": DATA / "qa_heldout", "tuning": DATA / "qa"}
REPEATS = 20
FIRST_CONTACT_WORDS = 4


def _questions(folder: Path) -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = []
    for path in sorted(folder.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text("utf-8")) or []:
            items.append((path.stem, str(entry["q"]), str(entry["topic"])))
    return items


def _reply(detector: LanguageDetector, text: str) -> str:
    """The reply language for a new person with no stored language and no platform hint."""
    found = detector.detect_first_contact(text)
    return (found.language if found.confident and found.language in SUPPORTED else "en") or "en"


def _short_first_messages() -> list[tuple[str, str]]:
    """(language, text) of every evaluation text of 1-4 words (links and emoji carry no language)."""
    items = [(lang, q) for folder in SPLITS.values() for lang, q, _ in _questions(folder)]
    for name in ("language_eval.yaml", "offtopic.yaml"):
        path = DATA / name
        if path.is_file():
            items += [(str(e["lang"]), str(e["text"])) for e in yaml.safe_load(path.read_text("utf-8")) or []]
    counted = [
        (lang, text, [w for w in words(fold(strip_noise(text))) if not w.isdigit()]) for lang, text in items
    ]
    return [(lang, text) for lang, text, found in counted if 1 <= len(found) <= FIRST_CONTACT_WORDS]


def run_answer_bench(repeats: int = REPEATS) -> dict[str, float]:
    """Median/p99 of one answer (ms), KB load (ms), topic and reply-language accuracy (0-1)."""
    started = time.perf_counter()
    kb = KnowledgeBase.load(ROOT / "content")
    kb_load_ms = (time.perf_counter() - started) * 1000
    talk = load_smalltalk(ROOT / "content", CONTENT_LANGUAGES)
    detector = LanguageDetector(english_words=kb.vocabulary("en"))
    splits = {name: _questions(folder) for name, folder in SPLITS.items()}
    timings: list[float] = []
    topic_hits: dict[str, dict[str, list[bool]]] = {name: defaultdict(list) for name in splits}
    language_hits: list[bool] = []
    for round_ in range(repeats):
        for name, items in splits.items():
            for lang, question, topic in items:
                t0 = time.perf_counter()
                talk.intent(question)
                reply = _reply(detector, question)
                answer = kb.answer(question, reply)
                talk.off_topic(question, answer)
                timings.append((time.perf_counter() - t0) * 1000)
                if round_ == 0:
                    topic_hits[name][lang].append(answer.topic is not None and answer.topic.id == topic)
                    language_hits.append(reply == lang)
    result: dict[str, float] = {"kb_load_ms": round(kb_load_ms, 1)}
    if timings:
        timings.sort()
        result["answer_median_ms"] = round(statistics.median(timings), 3)
        result["answer_p99_ms"] = round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3)
        result["qa_language_accuracy"] = round(sum(language_hits) / len(language_hits), 4)
    for name, hits in topic_hits.items():
        total = sum(len(v) for v in hits.values())
        if not total:
            continue
        suffix = "" if name == "heldout" else f"_{name}"
        result[f"qa_topic_accuracy{suffix}"] = round(sum(sum(v) for v in hits.values()) / total, 4)
        for lang, lang_hits in sorted(hits.items()):
            result[f"qa_topic_accuracy{suffix}_{lang}"] = round(sum(lang_hits) / len(lang_hits), 4)
    offtopic_path = DATA / "offtopic.yaml"
    if offtopic_path.is_file():
        lines = yaml.safe_load(offtopic_path.read_text("utf-8")) or []
        confident = [kb.answer(str(e["text"]), _reply(detector, str(e["text"]))).confident for e in lines]
        if confident:
            result["offtopic_confident_rate"] = round(sum(confident) / len(confident), 4)
        answered = []
        for entry in (e for e in lines if e["kind"] == "offtopic"):
            text = str(entry["text"])
            answer = kb.answer(text, _reply(detector, text))
            answered.append(
                talk.intent(text) is None and not talk.off_topic(text, answer) and answer.topic is not None
            )
        if answered:
            result["qa_offtopic_answered"] = round(sum(answered) / len(answered), 4)
        recognised = [talk.intent(str(e["text"])) == e["intent"] for e in lines if e["kind"] == "smalltalk"]
        if recognised:
            result["qa_smalltalk_ok"] = round(sum(recognised) / len(recognised), 4)
    first = [
        _reply(detector, text) == (lang if lang in SUPPORTED else "en")
        for lang, text in _short_first_messages()
    ]
    if first:
        result["qa_first_contact_language"] = round(sum(first) / len(first), 4)
    return result


if __name__ == "__main__":
    for key, value in run_answer_bench().items():
        print(f"{key}: {value}")
