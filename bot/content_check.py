"""`python run_bot.py content check`: every problem in content/, as sentences naming file and key.

Beyond what the loader finds (`bot.content.read_content`), each topic's example questions must be
answered by that topic (asked of the retriever, which sits above the content), the network's
regions file must name real countries once each, small talk (`content/smalltalk.yaml`) must reply in
every language, and the directory's vocabulary (challenges, search
words) must be written in every language the knowledge base is written in, naming only real regions.
"""

from __future__ import annotations

from pathlib import Path

from bot.accepted import example_problems
from bot.content import Topic, read_content, topic_file
from bot.knowledge import KnowledgeBase
from bot.regions import read_regions
from bot.smalltalk import SMALLTALK_FILE, read_smalltalk
from bot.taxonomy import CHALLENGES, DIRECTORY, read_taxonomy


def _example_question_problems(root: Path, topics: dict[str, Topic]) -> list[str]:
    kb = KnowledgeBase.from_topics(topics)
    problems: list[str] = []
    for topic in topics.values():
        for lang, text in topic.texts.items():
            for question in text.questions:
                found = kb.answer_in(question, lang)
                if found.best is None or found.best.id != topic.id:
                    other = f"'{found.best.id}'" if found.best is not None else "no topic"
                    problems.append(
                        f"{topic_file(root, topic.id, lang)}: example question {question!r} is answered by "
                        f"{other}, not by '{topic.id}' (make it, or the other topic, more specific)"
                    )
    return problems


def check_content(root: Path) -> list[str]:
    """Every problem in content/; [] when clean. A broken file is reported once, as broken."""
    topics, problems = read_content(root)
    if topics:
        problems += _example_question_problems(root, topics)
        problems += example_problems(root, KnowledgeBase.from_topics(topics))
    if (root / SMALLTALK_FILE).exists():  # without it, no small talk is recognised: logged at start
        languages = {language for topic in topics.values() for language in topic.texts}
        problems += read_smalltalk(root, languages)[1]
    regions = None
    if (root / "regions.yaml").exists():  # without the file, no region is suggested: not an error
        regions, found = read_regions(root)
        problems += found
    if (root / CHALLENGES).exists() or (root / DIRECTORY).exists():
        languages = {language for topic in topics.values() for language in topic.texts}
        taxonomy, found = read_taxonomy(root, languages)
        problems += found
        for region in taxonomy.region_names:
            if regions is not None and region not in regions.names:
                problems.append(f"content/{DIRECTORY}: region {region!r} is not in content/regions.yaml")
    return problems
