"""Example questions staff accepted, as exported to `content/accepted/examples.yaml` and read at start.

Each entry is `{topic, language, question}`: the question is answered by that topic. The file is
written by `python run_bot.py content export-accepted` (bot.domain.suggestions) and reviewed in git;
`content check` reports an entry whose topic does not exist or is not written in its language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeBase

ACCEPTED_FILE = Path("accepted") / "examples.yaml"


@dataclass(frozen=True, slots=True)
class Example:
    topic: str
    language: str
    question: str


def read_example_file(content_dir: Path) -> tuple[list[Example], list[str]]:
    """Examples exported and committed (`content/accepted/examples.yaml`), and the problems found."""
    path = content_dir / ACCEPTED_FILE
    shown = f"content/{ACCEPTED_FILE.as_posix()}"
    if not path.is_file():
        return [], []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
        return [], [f"{shown}: cannot be read: {error}"]
    if not isinstance(data, list):
        return [], [f"{shown}: must be a list of {{topic, language, question}}"]
    found: list[Example] = []
    problems: list[str] = []
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) and entry[key].strip()
            for key in ("topic", "language", "question")
        ):
            problems.append(f"{shown}: entry {number} must have a topic, a language and a question")
            continue
        found.append(Example(entry["topic"], entry["language"], entry["question"]))
    return found, problems


def example_problems(content_dir: Path, knowledge: KnowledgeBase) -> list[str]:
    """What `content check` reports about the exported examples: unreadable entries, and examples of
    a topic that no longer exists or is not written in that language."""
    examples, problems = read_example_file(content_dir)
    shown = f"content/{ACCEPTED_FILE.as_posix()}"
    for example in examples:
        topic = knowledge.topics.get(example.topic)
        if topic is None:
            problems.append(
                f"{shown}: {example.question!r} belongs to topic {example.topic!r}, which does not exist"
            )
        elif not topic.has_language(example.language):
            problems.append(
                f"{shown}: {example.question!r}: topic {example.topic!r} is not written in {example.language}"
            )
    return problems
