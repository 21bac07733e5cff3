"""Language detection tuned for short chat messages.

The measured figures (shared/domain/language-detection.md) drive the design: a plain n-gram
detector is unreliable on one or two words, while Unicode-script and letter rules plus a short
candidate list lift langdetect from 72% to 85% on word pairs and from 87% to 95% on five words.
So, in order:

1. URLs, e-mail addresses, @mentions and /commands are removed; digits, emoji and punctuation
   carry no language.
2. The dominant script decides what can be said at all. Arabic script is Arabic, Urdu or Persian,
   told apart by letters only Urdu (or Arabic) keyboards produce and by frequent function words.
   Cyrillic is Russian unless a letter only Ukrainian, Serbian, Kazakh, ... uses appears. Other
   scripts (Devanagari, Han, Hangul, Greek, Hebrew, ...) name their language outright.
3. Latin script goes to langdetect, limited to the Latin-script languages of the network: a
   dedicated factory holds only those profiles (which also makes each sampling step cheaper) and
   `set_prior_map` weights the supported ones above the rest. Its cost is bounded: 3 trials
   instead of 7, at most 300 samples per trial, text capped at `MAX_DETECT_CHARS`.
4. A length floor turns the detector's (over-)confident probability into a usable confidence:
   one word, a name, a number or "ok" is never `confident`, whatever langdetect says.

`prior` (the person's stored language) breaks ties: it is favoured in the prior map and chosen
when the text is too short to say; it never overrules a confident detection of a longer message.

`detect_first_contact` is for a person the bot knows nothing about (no stored language, no platform
hint), where the alternative is English, not a language they chose: a script only one supported
language uses (Cyrillic: Russian) or that strongly suggests one (Arabic script: Urdu with the letters
only Urdu keyboards produce, else Arabic) decides even on one word; a short Latin-script text leaves
English only on real evidence, a function word or greeting of that language that English does not
share ("bonjour", "asante", "pershendetje"), so "tell me a joke" is never answered in Albanian.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from langdetect.utils.lang_profile import LangProfile

from bot.textnorm import STOPWORDS, fold, strip_noise

__all__ = ["FIRST_CONTACT_WORDS", "MAX_DETECT_CHARS", "SUPPORTED", "Detection", "LanguageDetector"]

SUPPORTED: tuple[str, ...] = ("en", "ar", "fr", "es", "ru", "sw", "ur", "sq")
MAX_DETECT_CHARS = 200
CONFIDENT_AT = 0.5

# Latin-script languages of the network that the bot does not speak but must recognise (it
# answers them in English with a note). Kept short: every extra candidate costs accuracy on the
# supported ones.
_LATIN_EXTRA: tuple[str, ...] = ("de", "pt", "tr", "id", "it", "nl", "pl", "so", "hr", "ro")
_LATIN_SUPPORTED_WEIGHT = 1.0
_LATIN_EXTRA_WEIGHT = 0.2
_PRIOR_BOOST = 1.5
# Each function word of a language found in a short text multiplies that language's odds by
# e**_FUNCTION_WORD_WEIGHT: on two to five words this is the evidence langdetect lacks.
_FUNCTION_WORD_WEIGHT = 2.0
_SMOOTHING = 0.4
# Names of the network and its programmes, typed in English inside any language; they say
# nothing about the language around them ("strong cities ni shirika gani").
DOMAIN_TERMS: tuple[str, ...] = (
    "strong cities network",
    "strong cities",
    "scn",
    "focal point",
    "focal points",
    "management unit",
    "prevention academy",
    "young cities",
    "resource hub",
    "toolkit",
    "guide for mayors",
    "network",
)

# Letters per script needed before the confidence can reach 1; below ~half of it a detection is
# never confident. Arabic script omits short vowels, so its words have fewer letters.
_FULL_LENGTH = {"latin": 16, "arabic": 8, "cyrillic": 12, "other": 6}
_MIN_WORDS = 2

# Latin-script texts of at most this many words need a function word of their language on first contact.
FIRST_CONTACT_WORDS = 4

_URDU_LETTERS = frozenset("ٹڈڑںےۓہۃھ")
_PERSIAN_LETTERS = frozenset("پچژگکی")  # shared by Persian and Urdu, absent from Arabic
_ARABIC_LETTERS = frozenset("ةىيكأإؤ")  # what Arabic keyboards produce where Urdu/Persian differ
_URDU_WORDS = frozenset(
    [
        "آپ",
        "اور",
        "خدا",
        "بارے",
        "سکتا",
        "سکتے",
        "سے",
        "شہر",
        "لیے",
        "میں",
        "نہیں",
        "وہ",
        "چاہیے",
        "کا",
        "کب",
        "کتنا",
        "کتنی",
        "کر",
        "کو",
        "کون",
        "کہاں",
        "کی",
        "کیا",
        "کیسے",
        "کیوں",
        "کے",
        "گا",
        "ہم",
        "ہو",
        "ہیں",
        "ہے",
        "یہ",
    ]
)
_PERSIAN_WORDS = frozenset(
    [
        "آیا",
        "است",
        "این",
        "برای",
        "را",
        "شما",
        "شود",
        "ما",
        "می",
        "نیست",
        "هست",
        "چطور",
        "چه",
        "چگونه",
        "چیست",
        "کنم",
        "کنیم",
    ]
)
_ARABIC_WORDS = frozenset(
    [
        "أن",
        "أو",
        "أين",
        "إلى",
        "التي",
        "الذي",
        "الى",
        "ان",
        "او",
        "اين",
        "على",
        "عن",
        "في",
        "كم",
        "كيف",
        "لا",
        "ما",
        "ماذا",
        "متى",
        "مع",
        "من",
        "نعم",
        "هذا",
        "هذه",
        "هل",
        "هو",
        "هي",
    ]
)
_CYRILLIC_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("kk", frozenset("әғқңөұүһ")),
    ("uk", frozenset("їєґ")),
    ("be", frozenset("ў")),
    ("mk", frozenset("ѓќѕ")),
    ("sr", frozenset("ђјљњћџ")),
    ("uk", frozenset("і")),
)
# Scripts that name one language (first code point of the Unicode block, last, language).
_SCRIPT_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "el"),
    (0x0530, 0x058F, "hy"),
    (0x0590, 0x05FF, "he"),
    (0x0900, 0x097F, "hi"),
    (0x0980, 0x09FF, "bn"),
    (0x0A00, 0x0A7F, "pa"),
    (0x0A80, 0x0AFF, "gu"),
    (0x0B80, 0x0BFF, "ta"),
    (0x0C00, 0x0C7F, "te"),
    (0x0C80, 0x0CFF, "kn"),
    (0x0D00, 0x0D7F, "ml"),
    (0x0D80, 0x0DFF, "si"),
    (0x0E00, 0x0E7F, "th"),
    (0x0E80, 0x0EFF, "lo"),
    (0x1000, 0x109F, "my"),
    (0x10A0, 0x10FF, "ka"),
    (0x1200, 0x139F, "am"),
    (0x1780, 0x17FF, "km"),
    (0x3040, 0x30FF, "ja"),
    (0xAC00, 0xD7AF, "ko"),
    (0x1100, 0x11FF, "ko"),
    (0x4E00, 0x9FFF, "zh"),
    (0x3400, 0x4DBF, "zh"),
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Detection:
    """What could be said about a message's language.

    `language` is an ISO 639-1 code, possibly outside SUPPORTED ("de"), or None when nothing could
    be said. `confident` is True only when it is safe to switch the reply language on this message.
    """

    language: str | None
    confidence: float
    confident: bool


def _script_of(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF:
        return "latin"
    if 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0xFB50 <= cp <= 0xFEFF:
        return "arabic"
    if 0x0400 <= cp <= 0x052F:
        return "cyrillic"
    for first, last, lang in _SCRIPT_BLOCKS:
        if first <= cp <= last:
            return lang
    return "unknown"


class _LatinProfiles:
    """One langdetect factory holding only the Latin-script candidate profiles, loaded once."""

    _lock = threading.Lock()
    _factory: DetectorFactory | None = None

    @classmethod
    def factory(cls) -> DetectorFactory:
        with cls._lock:
            if cls._factory is None:
                langs = ("en", "fr", "es", "sw", "sq", *_LATIN_EXTRA)
                factory = DetectorFactory()
                for index, lang in enumerate(langs):
                    data = json.loads((Path(PROFILES_DIRECTORY) / lang).read_text("utf-8"))
                    factory.add_profile(LangProfile(**data), index, len(langs))
                cls._factory = factory
            return cls._factory


class LanguageDetector:
    """Detects the language of one chat message; cheap to call, safe to share between tasks."""

    def __init__(
        self,
        supported: Sequence[str] = SUPPORTED,
        *,
        seed: int = 0,
        ignore_terms: Sequence[str] = DOMAIN_TERMS,
        english_words: Iterable[str] = (),
    ) -> None:
        """`english_words`: words known to be English (the knowledge base's English text); on first
        contact a short Latin text made only of them and other languages' letters stays English."""
        self.supported = tuple(supported)
        self._english = frozenset(fold(w) for w in english_words) | STOPWORDS["en"]
        terms = sorted((re.escape(t) for t in ignore_terms), key=len, reverse=True)
        self._ignore = re.compile(rf"\b(?:{'|'.join(terms)})\b", re.IGNORECASE) if terms else None
        self._seed = seed
        self._factory = _LatinProfiles.factory()
        self._latin = tuple(self._factory.get_lang_list())

    def detect(self, text: str, prior: str | None = None) -> Detection:
        """Detect `text`'s language; `prior` is the person's stored language, used to break ties."""
        cleaned = strip_noise(text[: MAX_DETECT_CHARS * 4])[:MAX_DETECT_CHARS]
        if self._ignore is not None:
            cleaned = self._ignore.sub(" ", cleaned)
        letters: dict[str, int] = {}
        for ch in cleaned:
            if ch.isalpha():
                script = _script_of(ch)
                letters[script] = letters.get(script, 0) + 1
        if not letters:
            return Detection(prior, 0.0, False)
        # A few English words inside Arabic or Cyrillic text are names and terms; the other
        # script is the writer's language. Its letters weigh triple.
        script = max(letters, key=lambda s: letters[s] * (1 if s == "latin" else 3))
        count = letters[script]
        words = [w for w in _WORD.findall(cleaned) if _script_of(w[0]) == script]
        if script == "latin":
            lang, probability = self._detect_latin(cleaned, prior)
        elif script == "arabic":
            lang, probability = _detect_arabic(words, cleaned)
        elif script == "cyrillic":
            lang, probability = _detect_cyrillic(cleaned), 1.0
        elif script == "unknown":
            return Detection(prior, 0.0, False)
        else:
            lang, probability = ("ja" if "ja" in letters else script), 1.0
        full = _FULL_LENGTH.get(script, _FULL_LENGTH["other"])
        length_factor = min(1.0, count / full)
        spaced = script in ("latin", "arabic", "cyrillic")
        if spaced and len(words) < _MIN_WORDS:
            length_factor = min(length_factor, CONFIDENT_AT - 0.2)
        if script == "latin" and _looks_like_a_name(words):
            length_factor = min(length_factor, CONFIDENT_AT - 0.2)
        confidence = round(probability * length_factor, 4)
        confident = lang is not None and confidence >= CONFIDENT_AT
        if not confident and prior is not None and (lang is None or probability < 0.9):
            return Detection(prior, confidence, False)
        return Detection(lang, confidence, confident)

    def detect_first_contact(self, text: str) -> Detection:
        """The language of a first message from someone with no stored language and no platform hint
        (see the module docstring): script rules decide on any length, short Latin text needs evidence."""
        cleaned = strip_noise(text[: MAX_DETECT_CHARS * 4])[:MAX_DETECT_CHARS]
        if self._ignore is not None:
            cleaned = self._ignore.sub(" ", cleaned)
        letters = {"latin": 0, "arabic": 0, "cyrillic": 0}
        for ch in cleaned:
            if ch.isalpha():
                script = _script_of(ch)
                if script in letters:
                    letters[script] += 1
        if letters["cyrillic"] >= 2 and letters["cyrillic"] * 3 > letters["latin"]:
            return Detection(_detect_cyrillic(cleaned), 1.0, True)
        if letters["arabic"] >= 2 and letters["arabic"] * 3 > letters["latin"]:
            words = [w for w in _WORD.findall(cleaned) if _script_of(w[0]) == "arabic"]
            return Detection(_first_contact_arabic(words, cleaned), 1.0, True)
        found = self.detect(text)
        words = [fold(w) for w in _WORD.findall(cleaned) if _script_of(w[0]) == "latin"]
        if not letters["latin"] or found.language in (None, "en") or len(words) > FIRST_CONTACT_WORDS:
            return found
        own = STOPWORDS.get(found.language, frozenset())
        if any(w in own and w not in STOPWORDS["en"] for w in words):
            return Detection(found.language, max(found.confidence, CONFIDENT_AT), True)
        if found.confident and not any(w in self._english for w in words):
            return found  # no English word at all: the detector's confident verdict stands
        return Detection(found.language, min(found.confidence, CONFIDENT_AT - 0.01), False)

    def _detect_latin(self, text: str, prior: str | None) -> tuple[str | None, float]:
        if text.isupper():
            text = text.lower()  # langdetect skips all-capital words as acronyms
        detector: Any = self._factory.create()
        detector.seed = self._seed
        detector.n_trial = 3
        detector.ITERATION_LIMIT = 300  # real text converges well before; "xxxx..." never does
        detector.set_max_text_length(MAX_DETECT_CHARS)
        weights = {
            lang: _LATIN_SUPPORTED_WEIGHT if lang in self.supported else _LATIN_EXTRA_WEIGHT
            for lang in self._latin
        }
        if prior in weights:
            weights[prior] *= _PRIOR_BOOST
        detector.set_prior_map(weights)
        detector.append(text)
        try:
            detector.get_probabilities()
        except LangDetectException:
            return None, 0.0
        words = [fold(w) for w in _WORD.findall(text)]
        candidates = self._latin
        odds = []
        for lang, p in zip(candidates, detector.langprob, strict=True):
            stop = STOPWORDS.get(lang, frozenset())
            hits = sum(w in stop for w in words)
            smoothed = (1 - _SMOOTHING) * p + _SMOOTHING / len(candidates)
            odds.append(smoothed * math.exp(_FUNCTION_WORD_WEIGHT * hits) * weights[lang])
        total = sum(odds)
        ranked = sorted(zip(candidates, (o / total for o in odds), strict=True), key=lambda kv: -kv[1])
        (best, p_best), (second, p_second) = ranked[0], ranked[1]
        if prior is not None and second == prior and p_best - p_second < 0.2:
            return prior, (p_best + p_second) / 2
        return best, p_best


def _looks_like_a_name(words: list[str]) -> bool:
    """Two to four capitalised words and nothing else ("Maria Garcia Lopez") is a signature."""
    return 1 <= len(words) <= 4 and all(w[0].isupper() and not w.isupper() for w in words)


def _detect_arabic(words: list[str], text: str) -> tuple[str, float]:
    """Arabic, Urdu or Persian from letters and function words; returns (language, probability)."""
    urdu = sum(ch in _URDU_LETTERS for ch in text) + 2 * sum(w in _URDU_WORDS for w in words)
    persian_letters = sum(ch in _PERSIAN_LETTERS for ch in text)
    persian = 2 * sum(w in _PERSIAN_WORDS for w in words)
    arabic = sum(ch in _ARABIC_LETTERS for ch in text) + 2 * sum(w in _ARABIC_WORDS for w in words)
    arabic += sum(w.startswith("ال") and len(w) > 3 for w in words)
    if urdu == 0 and persian == 0 and persian_letters:
        persian = persian_letters  # Persian keyboard, no Urdu-only letter: Persian or Urdu
        urdu = persian_letters
    scores = {"ar": arabic, "ur": urdu, "fa": persian}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0:
        return "ar", 0.7  # only letters common to all three: Arabic is the likeliest writer
    if best == "fa" and scores["ur"] == top:
        best = "ur"  # a tie between Persian and Urdu: Urdu is the network's language
    return best, min(1.0, 0.5 + 0.5 * (top - second) / top + 0.1 * min(top, 5) / 5)


def _first_contact_arabic(words: list[str], text: str) -> str:
    """Urdu when a letter only Urdu keyboards produce appears; Persian on Persian function words; Urdu
    on the letters Persian and Urdu share (پ چ ژ گ ک ی: the network speaks Urdu, not Persian);
    else Arabic, whose keyboards produce none of these."""
    if any(ch in _URDU_LETTERS for ch in text) or any(w in _URDU_WORDS for w in words):
        return "ur"
    if any(w in _PERSIAN_WORDS for w in words):
        return "fa"
    if any(ch in _PERSIAN_LETTERS for ch in text):
        return "ur"
    return "ar"


def _detect_cyrillic(text: str) -> str:
    lowered = text.lower()
    present = set(lowered)
    for lang, marks in _CYRILLIC_RULES:
        if present & marks:
            return lang
    return "ru"
