"""Answer benchmark: detection + retrieval per question, knowledge-base load, and accuracy.

`run_answer_bench()` is wired into `make bench` by bench/run.py. Timings are perf_counter over the
evaluation questions, repeated; they are figures to read, never asserted in a test.
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
REPEATS = 20


def _questions() -> list[tuple[str, str, str]]:
    items: list[tuple[str, str, str]] = []
    for path in sorted((ROOT / "tests" / "data" / "qa").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text("utf-8")) or []:
            items.append((path.stem, str(entry["q"]), str(entry["topic"])))
    return items


def run_answer_bench(repeats: int = REPEATS) -> dict[str, float]:
    """Median/p99 of one answer (ms), KB load (ms), topic and reply-language accuracy (0-1)."""
    started = time.perf_counter()
    kb = KnowledgeBase.load(ROOT / "content")
    kb_load_ms = (time.perf_counter() - started) * 1000
    detector = LanguageDetector()
    items = _questions()
    timings: list[float] = []
    topic_hits: dict[str, list[bool]] = defaultdict(list)
    language_hits: list[bool] = []
    for round_ in range(repeats):
        for lang, question, topic in items:
            t0 = time.perf_counter()
            found = detector.detect(question)
            reply = (found.language if found.confident and found.language in SUPPORTED else "en") or "en"
            answer = kb.answer(question, reply)
            timings.append((time.perf_counter() - t0) * 1000)
            if round_ == 0:
                topic_hits[lang].append(answer.topic is not None and answer.topic.id == topic)
                language_hits.append(reply == lang)
    result: dict[str, float] = {"kb_load_ms": round(kb_load_ms, 1)}
    if timings:
        timings.sort()
        result["answer_median_ms"] = round(statistics.median(timings), 3)
        result["answer_p99_ms"] = round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3)
        total = sum(len(v) for v in topic_hits.values())
        result["qa_topic_accuracy"] = round(sum(sum(v) for v in topic_hits.values()) / total, 4)
        result["qa_language_accuracy"] = round(sum(language_hits) / len(language_hits), 4)
        for lang, hits in sorted(topic_hits.items()):
            result[f"qa_topic_accuracy_{lang}"] = round(sum(hits) / len(hits), 4)
    return result


if __name__ == "__main__":
    for key, value in run_answer_bench().items():
        print(f"{key}: {value}")
