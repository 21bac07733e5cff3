"""Text normalisation and tokenising for matching questions against the knowledge base.

People type on phones: without accents, with Arabic letter variants their keyboard happens to
produce, with Persian or Arabic-Indic digits, in capitals. Matching must not depend on any of that,
so questions and content pass through the same folding before they are compared. Two steps are
kept apart because a stemmer needs to see the letters it knows (the Arabic Snowball stemmer strips
a final taa marbuta ``ة`` but not its folded form ``ه``):

* `fold_light`: case, compatibility forms, diacritics, tatweel, alef forms, Persian/Urdu letters to
  their Arabic equivalents, digits. Safe to run before a stemmer.
* `fold_final`: the lossy Arabic folds (``ة`` -> ``ه``, ``ى`` -> ``ي``) applied after stemming.

`fold` does both, for callers that do not stem (duplicate-title checks, fuzzy matching).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import Stemmer

__all__ = ["NGRAM_SIZE", "Analyzer", "fold", "fold_final", "fold_light", "strip_noise", "tokenize", "words"]

_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}

_ARABIC_LIGHT = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ک": "ك",  # keheh (Persian/Urdu) -> kaf
    "ی": "ي",  # Farsi yeh -> yeh
    "ې": "ي",
    "ۍ": "ي",
    "ے": "ي",  # Urdu yeh barree
    "ۓ": "ي",
    "ہ": "ه",  # heh goal -> heh
    "ۂ": "ه",
    "ۃ": "ة",  # Urdu taa marbuta goal -> taa marbuta
    "ھ": "ه",  # heh doachashmee -> heh
    "ؤ": "و",
    "ئ": "ي",
    "\u0640": "",  # tatweel
    "\u200c": "",  # zero-width non-joiner
    "\u200d": "",
    "\u200f": "",  # right-to-left mark
    "\u200e": "",
    "ё": "е",
}
_LIGHT_TABLE = str.maketrans({**{chr(k): v for k, v in _DIGITS.items()}, **_ARABIC_LIGHT})
_FINAL_TABLE = str.maketrans({"ة": "ه", "ى": "ي"})

# Arabic harakat, superscript alef, Quranic marks: carry no meaning for matching.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_NOISE = re.compile(
    r"(?:https?://|www\.)\S+"  # URLs
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|(?<!\w)[@/]\w+",  # @mentions and /commands
    re.UNICODE,
)


def _strip_latin_accents(text: str) -> str:
    """Drop combining marks that sit on a Latin letter; keep Cyrillic й and Arabic letters intact."""
    decomposed = unicodedata.normalize("NFD", text)
    out: list[str] = []
    base_is_latin = False
    for ch in decomposed:
        if unicodedata.combining(ch):
            if base_is_latin:
                continue
        else:
            base_is_latin = ch < "\u0250"
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def fold_light(text: str) -> str:
    """Fold case, width, accents on Latin letters, Arabic-script variants and digits (stemmer-safe)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text)
    text = text.translate(_LIGHT_TABLE)
    text = text.replace("ß", "ss").replace("œ", "oe").replace("æ", "ae")
    return _strip_latin_accents(text)


def fold_final(text: str) -> str:
    """The lossy Arabic folds applied after stemming: ``ة`` -> ``ه``, ``ى`` -> ``ي``."""
    return text.translate(_FINAL_TABLE)


def fold(text: str) -> str:
    """Full folding for comparisons that do not stem."""
    return fold_final(fold_light(text))


def strip_noise(text: str) -> str:
    """Remove URLs, e-mail addresses, @mentions and /commands: they say nothing about the topic
    or the language of the sentence around them."""
    return _NOISE.sub(" ", text)


def words(text: str) -> list[str]:
    """Split already-folded text into word tokens (letters and digits; apostrophes split)."""
    return _TOKEN.findall(text)


def tokenize(text: str) -> list[str]:
    """Noise-stripped, fully folded word tokens of raw text."""
    return words(fold(strip_noise(text)))


ENDING_LETTERS = 5  # a phrase word this long also matches the same word with another ending


class Words:
    """A message's folded words, indexed so that most phrases are ruled out by set lookups."""

    __slots__ = ("exact", "stems", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.exact = frozenset(tokens)
        self.stems = frozenset(
            token[:size] for token in tokens for size in range(ENDING_LETTERS - 1, len(token) + 1)
        )

    def may_hold(self, word: str, endings: bool) -> bool:
        return word in self.exact or (endings and len(word) >= ENDING_LETTERS and word[:-1] in self.stems)


def contains_phrase(tokens: list[str] | Words, phrase: list[str], *, endings: bool = True) -> bool:
    """Whether the folded words `phrase` occur together, in order, in `tokens`. With `endings`, a phrase
    word of five letters or more also matches a word that differs only after its last-but-one letter
    ("Балканы" finds "Балканах", "Кения" finds "Кении", "Balkans" finds "Balkan")."""
    size = len(phrase)
    if not size:
        return False
    if isinstance(tokens, Words):
        if not all(tokens.may_hold(word, endings) for word in phrase):
            return False
        tokens = tokens.tokens
    for start in range(len(tokens) - size + 1):
        if all(_same_word(tokens[start + i], phrase[i], endings) for i in range(size)):
            return True
    return False


def _same_word(token: str, wanted: str, endings: bool) -> bool:
    if token == wanted:
        return True
    return endings and len(wanted) >= ENDING_LETTERS and token.startswith(wanted[:-1])


# --- Terms for retrieval -----------------------------------------------------------------------

_SNOWBALL = {
    "en": "english",
    "fr": "french",
    "es": "spanish",
    "ru": "russian",
    "ar": "arabic",
    "de": "german",
    "pt": "portuguese",
    "it": "italian",
    "tr": "turkish",
    "id": "indonesian",
}
# No Snowball stemmer exists for Swahili, Urdu or Albanian. Character 4-grams stand in for one:
# they absorb Swahili's prefixes (noun classes, verb subject and tense markers: ku-jiunga,
# tu-na-jiunga) and Albanian's and Urdu's inflection suffixes (qytet, qyteti, qytetet) without
# hand-written rules nobody here could validate, and they tolerate typos for free.
NGRAM_SIZE = 4


class Analyzer:
    """Turns text in one language into index terms: folded, stemmed words or character n-grams.

    Stems are cached: questions repeat the same few hundred words, and PyStemmer is called once
    per new word.
    """

    def __init__(self, language: str) -> None:
        self.language = language
        algorithm = _SNOWBALL.get(language)
        self.uses_ngrams = algorithm is None
        self._stemmer: Any = Stemmer.Stemmer(algorithm) if algorithm else None
        self._cache: dict[str, tuple[str, ...]] = {}

    def word_terms(self, word: str) -> tuple[str, ...]:
        """The terms of one lightly folded word."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if self._stemmer is not None:
            terms: tuple[str, ...] = (fold_final(self._stemmer.stemWord(word)),)
        else:
            folded = fold_final(word)
            if len(folded) <= NGRAM_SIZE:
                terms = (folded,)
            else:
                padded = f"_{folded}_"
                terms = tuple(padded[i : i + NGRAM_SIZE] for i in range(len(padded) - NGRAM_SIZE + 1))
        if len(self._cache) < 50_000:
            self._cache[word] = terms
        return terms

    def surface_words(self, text: str) -> list[str]:
        """Lightly folded content words of raw text: URLs, mentions, commands, function words
        and chat filler removed."""
        stop = STOPWORDS.get(self.language, frozenset())
        return [w for w in words(fold_light(strip_noise(text))) if fold_final(w) not in stop]

    def terms(self, text: str) -> list[str]:
        """All index terms of raw text, in order."""
        return [t for w in self.surface_words(text) for t in self.word_terms(w)]


# Function words per language, folded (no accents, Arabic variants folded) because that is how
# people type them. Two uses: retrieval drops them (in a 23-topic corpus their idf is noise, not
# evidence), and language detection counts them as strong evidence on short Latin-script texts.
# Question words (who, when, how much...) are kept out: they carry the intent of a question.
_FUNCTION_WORDS = {
    "en": "very hello hi hey dear please pls plz thanks thank ok okay a an the is "
    "are was were be been am do does did i me my we us our you your it its this that "
    "these those of to in on at for from with and or but if so as by about into there "
    "their they them he she her his can could would should will shall have has had "
    "any some not no yes get got just also too very",
    "fr": "beaucoup bien tres bonjour salut bonsoir svp stp merci le la les l un une des du "
    "de d au aux et ou mais donc est sont suis etre c ce cet cette ces je j tu il "
    "elle on nous vous ils elles me m te t se s mon ma mes notre nos votre vos leur "
    "leurs en y dans sur pour par avec sans sous a qu que qui ne pas plus tres aussi "
    "ca il y a avez avons ai as faut peut peux veut",
    "es": "muchas mucho muy hola buenas buenos dias tardes gracias favor el la los las lo "
    "un una unos unas de del al y e o u pero es son soy somos esta estan estoy ser yo "
    "tu el ella nosotros ustedes usted me te se nos le les mi mis su sus nuestro "
    "nuestra nuestros tu en a con sin por para sobre que hay muy tambien ya si no "
    "este esta estos esto eso ese",
    "pt": "obrigado obrigada ola pela pelo muito o a os as um uma de do da dos das em no na "
    "nos nas e ou mas que com para por nao sim eu voce voces ele ela nos meu minha "
    "seu sua nosso nossa e sao ser esta estao",
    "it": "grazie ciao buongiorno il lo la i gli le un una uno di del della dei delle e ed "
    "o ma che con per da in su non si sono sei io tu lui lei noi voi loro mio mia suo "
    "sua nostro nostra questo",
    "de": "danke bitte hallo der die das den dem des ein eine einen einem einer und oder "
    "aber ist sind bin war ich du er sie es wir ihr mein meine unser unsere mit fur "
    "von zu im in am an auf nicht kein keine auch wie was wer wann wo kann konnen",
    "nl": "dank hallo bedankt de het een en of maar is zijn ben ik jij je hij zij wij we "
    "ons onze mijn van voor met in op aan niet geen ook dat die dit wat hoe",
    "tr": "merhaba tesekkurler ve ile bir bu su o ben sen biz siz onlar icin mi mu ne nasil "
    "neden var yok de da ama veya gibi cok daha",
    "id": "terima kasih halo dan atau yang di ke dari untuk dengan ini itu saya kami kita "
    "anda mereka apa bagaimana tidak bukan ada adalah akan bisa juga",
    "pl": "i w z na do nie jest sa to ten ta jak co czy sie ze o od po dla my wy ja ty",
    "ro": "si sau dar este sunt eu tu noi voi el ea un o al ale cu de la in pe pentru nu ce cum care",
    "so": "iyo ama waa ma ka ku u la oo in aan ay baa waxaa maxay sidee",
    "hr": "i u na je su se da za od do s sa ili ali ne to kako sto koji",
    "sw": "habari jambo tafadhali asante mambo hujambo na ya wa za la kwa ni si katika hii "
    "hiyo huo hizi ile yangu yetu wako wetu yao mimi wewe sisi ninyi wao je au lakini "
    "pia sana kama tu",
    "sq": "shume pershendetje faleminderit lutem mirdita pershendes cfare dhe ose por eshte "
    "jane jam jemi une ti ai ajo ne ju ata i e te se ne per me nga si qe nje ka kam "
    "kemi mund nuk a edhe ky kjo keto tone jone",
    "ru": "привет здравствуйте пожалуйста спасибо добрый и в во на с со к ко о об от до из "
    "за по у для а но или не ни да же ли бы это этот эта эти то тот я ты он она оно "
    "мы вы они мне меня нас нам вас вам наш наша наше наши мой моя мои ваш ваша ваши "
    "его ее их есть был была были быть",
    "ar": "مرحبا السلام عليكم شكرا فضلك سلام اهلا في من الي علي عن مع و او ثم ان انا نحن "
    "انت انتم هو هي هم هذا هذه ذلك تلك التي الذي الذين كان كانت يكون لدي لنا لكم لي "
    "له لها ب ل ف قد لا نعم",
    "ur": "شکریہ سلام براہ کرم السلام علیکم کے کی کا کو سے میں ہے ہیں ہو تھا تھے اور یا "
    "لیکن یہ وہ ہم آپ میں مجھے ہمیں ہمارا ہماری ہمارے آپکا آپ کی کر نے بھی تو",
}
STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(fold(w) for w in text.split()) for lang, text in _FUNCTION_WORDS.items()
}
