"""Answers free-text questions from the knowledge base: one BM25 index per language.

Why a small pure-Python BM25 rather than a library (bm25s, rank-bm25): the corpus is ~23 topics
per language, so an inverted index in dicts scores a question in tens of microseconds, loads in
milliseconds and needs no numpy/scipy; it also lets the confidence use what BM25 libraries do not
expose (which query terms matched, with their idf).

A document is a topic: its title and keywords (weight 3), example questions (weight 1 per
occurrence) and answer (weight 0.3), after `textnorm.Analyzer` (folding, Snowball stemming, or
character n-grams where no stemmer exists). Unknown words are mapped to the closest indexed word
(rapidfuzz) so typos still match.

Confidence is not the BM25 score (unbounded, length dependent) but how much of the question's
information the best topic explains: the idf mass of matched query terms over the idf mass of all
query terms (an unknown word counts as rare), tempered by the margin over the runner-up. Off-topic
questions ("what's the weather") consist of words no topic has, so they stay below the threshold.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from rapidfuzz import fuzz, process

from bot.content import Topic, load_topics
from bot.textnorm import Analyzer, fold, words

__all__ = ["CONFIDENT_AT", "Answer", "KnowledgeBase", "Match"]

CONFIDENT_AT = 0.5
MAX_QUESTION_CHARS = 300
FALLBACK_LANGUAGE = "en"
RESCUE_MIN_WORDS = 3
_K1 = 1.2
_B = 0.75
_FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "questions": 1.0, "answer": 0.3, "english": 0.5}
UNKNOWN_WEIGHT = 0.4
QUESTION_BONUS = 0.5
# Matched idf mass (saturated by tf) at which one topic clearly holds the question's key word.
STRONG_EVIDENCE = 2.5
# Share of the question's information the best topic must explain; maps to confidence 0.5.
COVERAGE_AT = 0.3
_FUZZY_CUTOFF = 80.0
_FUZZY_MIN_CHARS = 5  # shorter words have too many neighbours one letter away


@dataclass(frozen=True)
class Answer:
    """The knowledge base's reply to one question (see module docstring for `score`)."""

    topic: Topic | None
    score: float
    confident: bool
    index_language: str
    suggestions: tuple[Topic, ...]


@dataclass(frozen=True)
class Match:
    """One index's verdict on a question: the best topic (confident or not) and the ranking."""

    best: Topic | None
    score: float
    confident: bool
    ranked: tuple[Topic, ...]
    language: str

    @property
    def topic(self) -> Topic | None:
        """The best topic when confident, else None."""
        return self.best if self.confident else None


class _Index:
    """BM25 over the topics written in one language."""

    def __init__(self, language: str, topics: Iterable[Topic]) -> None:
        self.language = language
        self.analyzer = Analyzer(language)
        self.topics = tuple(t for t in topics if t.has_language(language))
        tfs: list[dict[str, float]] = []
        surface: set[str] = set()
        # Example questions by topic, as term sets: the nearest one is a second opinion.
        self.examples: list[list[frozenset[str]]] = []
        for topic in self.topics:
            text = topic.texts[language]
            self.examples.append(
                [frozenset(self.analyzer.terms(q)) for q in text.questions]
                + [frozenset(self.analyzer.terms(text.title))]
            )
            fields = {
                "title": [text.title],
                "keywords": list(text.keywords),
                "questions": list(text.questions),
                "answer": [text.answer],
            }
            if language != FALLBACK_LANGUAGE:
                english = topic.texts[FALLBACK_LANGUAGE]
                fields["english"] = [english.title, *english.keywords]
            tf: dict[str, float] = {}
            for name, parts in fields.items():
                weight = _FIELD_WEIGHTS[name]
                for part in parts:
                    words = self.analyzer.surface_words(part)
                    if name != "answer":
                        surface.update(words)
                    for word in words:
                        for term in self.analyzer.word_terms(word):
                            tf[term] = tf.get(term, 0.0) + weight
            tfs.append(tf)
        n = len(tfs)
        self.doc_len = [sum(tf.values()) for tf in tfs]
        self.avg_len = (sum(self.doc_len) / n) if n else 1.0
        self.postings: dict[str, dict[int, float]] = {}
        for doc, tf in enumerate(tfs):
            for term, count in tf.items():
                self.postings.setdefault(term, {})[doc] = count
        self.idf = {
            term: math.log(1.0 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for term, docs in self.postings.items()
        }
        self.unknown_idf = math.log(1.0 + (n + 0.5) / 0.5) if n else 1.0
        # each example's summed idf, so an overlap needs only the query's terms (see _nearest_example)
        self.example_idf: list[list[float]] = [
            [sum(self.idf.get(term, self.unknown_idf) for term in example) for example in examples]
            for examples in self.examples
        ]
        self.vocabulary = sorted(w for w in surface if len(w) >= _FUZZY_MIN_CHARS)

    def _query_terms(self, question: str) -> dict[str, float]:
        """Query terms with their weight (1, or the similarity of a fuzzy replacement)."""
        weights: dict[str, float] = {}
        for word in self.analyzer.surface_words(question[:MAX_QUESTION_CHARS]):
            terms = self.analyzer.word_terms(word)
            weight = 1.0
            if (
                not self.analyzer.uses_ngrams
                and terms[0] not in self.postings
                and len(word) >= _FUZZY_MIN_CHARS
                and self.vocabulary
            ):
                # Typos keep the first letter: "rice" is not a typo of "price", nor "mars" of "maps".
                found = next(
                    (
                        candidate
                        for candidate in process.extract(
                            word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=3
                        )
                        if candidate[0][:1] == word[:1]
                    ),
                    None,
                )
                if found is not None:
                    terms = self.analyzer.word_terms(found[0])
                    weight = found[1] / 100.0
            for term in terms:
                weights[term] = max(weights.get(term, 0.0), weight)
        return weights

    def _nearest_example(self, query: Mapping[str, float], query_idf: float, doc: int) -> float:
        """Idf-weighted overlap (0..1) between the query and the topic's closest example question:
        a question close to one staff wrote for a topic belongs to that topic, even when the
        topic's other fields repeat a competing word more often. The union's idf is the query's plus
        the example's minus what they share, so only the query's few terms are looked at."""
        best = 0.0
        for example, example_idf in zip(self.examples[doc], self.example_idf[doc], strict=True):
            shared = shared_idf = 0.0
            for term, weight in query.items():
                if term in example:
                    idf = self.idf.get(term, self.unknown_idf)
                    shared_idf += idf
                    shared += idf * weight
            union = query_idf + example_idf - shared_idf
            if union > 0:
                best = max(best, shared / union)
        return best

    def search(self, question: str) -> Match:
        """Rank this index's topics for `question`."""
        query = self._query_terms(question)
        if not query or not self.topics:
            return Match(None, 0.0, False, (), self.language)
        scores: dict[int, float] = {}
        explained: dict[int, float] = {}
        total = 0.0
        for term, weight in query.items():
            idf = self.idf.get(term)
            if idf is None:
                if not term.strip("_").isdigit():  # a year or a count says nothing off-topic
                    total += UNKNOWN_WEIGHT * self.unknown_idf
                continue
            total += idf
            for doc, tf in self.postings[term].items():
                norm = _K1 * (1.0 - _B + _B * self.doc_len[doc] / self.avg_len)
                scores[doc] = scores.get(doc, 0.0) + weight * idf * tf * (_K1 + 1.0) / (tf + norm)
                explained[doc] = explained.get(doc, 0.0) + weight * idf * tf / (tf + 0.5)
        if not scores:
            return Match(None, 0.0, False, (), self.language)
        top = max(scores.values())
        query_idf = sum(self.idf.get(term, self.unknown_idf) for term in query)
        for doc in scores:
            scores[doc] += QUESTION_BONUS * top * self._nearest_example(query, query_idf, doc)
        order = sorted(scores, key=lambda d: scores[d], reverse=True)
        best = order[0]
        coverage = explained[best] / total if total else 0.0
        strength = min(1.0, explained[best] / STRONG_EVIDENCE)
        confidence = round(min(1.0, coverage * strength / (2 * COVERAGE_AT)), 4)
        ranked = tuple(self.topics[d] for d in order)
        return Match(ranked[0], confidence, confidence >= CONFIDENT_AT, ranked, self.language)


class KnowledgeBase:
    """All topics and one index per language they are written in."""

    def __init__(self, topics: Mapping[str, Topic], *, base: Mapping[str, Topic] | None = None) -> None:
        self._topics = MappingProxyType(dict(topics))
        self._base = MappingProxyType(dict(base if base is not None else topics))
        languages = {lang for t in topics.values() for lang in t.texts}
        self._indexes = {lang: _Index(lang, topics.values()) for lang in sorted(languages)}

    def with_examples(self, examples: Iterable[tuple[str, str, str]]) -> KnowledgeBase:
        """A knowledge base of the same content plus these example questions, each `(topic id,
        language, question)` (staff-accepted suggestions, kept in the database). An example for a
        topic that no longer exists, or in a language the topic is not written in, is left out."""
        extra: dict[tuple[str, str], list[str]] = {}
        for topic_id, language, question in examples:
            topic = self._base.get(topic_id)
            if topic is not None and topic.has_language(language) and question.strip():
                extra.setdefault((topic_id, language), []).append(question.strip())
        topics = dict(self._base)
        for (topic_id, language), questions in extra.items():
            topic = topics[topic_id]
            text = topic.texts[language]
            added = tuple(q for q in dict.fromkeys(questions) if q not in text.questions)
            texts = {**topic.texts, language: dataclasses.replace(text, questions=text.questions + added)}
            topics[topic_id] = dataclasses.replace(topic, texts=texts)
        return KnowledgeBase(topics, base=self._base)

    @classmethod
    def load(cls, root: Path) -> KnowledgeBase:
        """Load content/ (broken files are skipped and logged; ContentError when no topic loads) and
        build the indexes."""
        return cls(load_topics(root))

    @classmethod
    def from_topics(cls, topics: Mapping[str, Topic]) -> KnowledgeBase:
        """Build from already-loaded topics (used by the content check)."""
        return cls(topics)

    @property
    def topics(self) -> Mapping[str, Topic]:
        """Every topic by id."""
        return self._topics

    @property
    def languages(self) -> frozenset[str]:
        """Languages that have an index (at least one topic written in them)."""
        return frozenset(self._indexes)

    def vocabulary(self, language: str) -> frozenset[str]:
        """Every folded word of the topics written in `language` (titles, questions, keywords, answers)."""
        found: set[str] = set()
        for topic in self._topics.values():
            text = topic.texts.get(language)
            if text is not None:
                for part in (text.title, text.answer, *text.questions, *text.keywords):
                    found.update(words(fold(part)))
        return frozenset(w for w in found if not w.isdigit())

    def topic(self, topic_id: str) -> Topic:
        """The topic with this id; KeyError if unknown."""
        return self._topics[topic_id]

    def answer_in(self, question: str, language: str) -> Match:
        """Search one language's index only, with no fallback."""
        index = self._indexes.get(language)
        if index is None:
            return Match(None, 0.0, False, (), language)
        return index.search(question)

    def answer(self, question: str, language: str) -> Answer:
        """Answer `question` from the `language` index, then English, then any other index.

        The other indexes are a last resort for a misdetected language (a French question read
        as English still finds its topic). Suggestions come from the first index that matched
        anything.
        """
        first: Match | None = None
        for lang in dict.fromkeys((language, FALLBACK_LANGUAGE)):
            if lang in self._indexes:
                match = self._indexes[lang].search(question)
                if match.confident:
                    return Answer(match.best, match.score, True, lang, ())
                if first is None or (first.best is None and match.best is not None):
                    first = match
        # A name or a word or two ("Amina", "Rabat") is no evidence of a misdetected language, and
        # the character n-gram indexes (sw, ur, sq) match almost anything that short.
        others = (
            [
                self._indexes[lang].search(question)
                for lang in self._indexes
                if lang not in (language, FALLBACK_LANGUAGE)
            ]
            if len(words(question)) >= RESCUE_MIN_WORDS
            else []
        )
        rescue = max(others, key=lambda m: m.score, default=None)
        if rescue is not None and rescue.confident:
            return Answer(rescue.best, rescue.score, True, rescue.language, ())
        if first is None or first.best is None:
            first = rescue if rescue is not None and rescue.best is not None else first
        if first is None:
            return Answer(None, 0.0, False, FALLBACK_LANGUAGE, ())
        return Answer(None, first.score, False, first.language, first.ranked[:3])
