"""Answer benchmark: detection + retrieval per question, knowledge-base load, and accuracy.

`run_answer_bench()` is wired into `make bench` by bench/run.py. Timings are perf_counter over the
evaluation questions of both splits, repeated; they are figures to read, never asserted in a test.

Accuracy is reported per split: `qa_topic_accuracy[_<lang>]` on the held-out split
(tests/data/qa_heldout, never tuned against: the honest figure) and `qa_topic_accuracy_tuning[_<lang>]`
on the tuning split (tests/data/qa). `offtopic_confident_rate` is the share of off-topic and small-talk
lines (tests/data/offtopic.yaml) that the knowledge base answers confidently with some topic: lower
is better.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeBase
from bot.language import SUPPORTED, LanguageDetector

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SPLITS = {"heldout": DATA / "qa_heldout", "tuning": DATA / "qa"}
REPEATS = 20


def _questions(folder: Path) -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = []
    for path in sorted(folder.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text("utf-8")) or []:
            items.append((path.stem, str(entry["q"]), str(entry["topic"])))
    return items


def _reply(detector: LanguageDetector, text: str) -> str:
    found = detector.detect(text)
    return (found.language if found.confident and found.language in SUPPORTED else "en") or "en"


def run_answer_bench(repeats: int = REPEATS) -> dict[str, float]:
    """Median/p99 of one answer (ms), KB load (ms), topic and reply-language accuracy (0-1)."""
    started = time.perf_counter()
    kb = KnowledgeBase.load(ROOT / "content")
    kb_load_ms = (time.perf_counter() - started) * 1000
    detector = LanguageDetector()
    splits = {name: _questions(folder) for name, folder in SPLITS.items()}
    timings: list[float] = []
    topic_hits: dict[str, dict[str, list[bool]]] = {name: defaultdict(list) for name in splits}
    language_hits: list[bool] = []
    for round_ in range(repeats):
        for name, items in splits.items():
            for lang, question, topic in items:
                t0 = time.perf_counter()
                reply = _reply(detector, question)
                answer = kb.answer(question, reply)
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
    return result


if __name__ == "__main__":
    for key, value in run_answer_bench().items():
        print(f"{key}: {value}")
