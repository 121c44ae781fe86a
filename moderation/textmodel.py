"""A small linear classifier over words, word pairs and the letters inside words, for the
safety filters (crisis language, contact details) to use beside their rules.

Rules are precise but only know the wording someone wrote down; people in a bad moment say
the same things a thousand other ways ("won't be around after friday", "gave the dog to my
sister, she'll look after him now"), with typos and texting shorthand. A linear model over
n-grams, trained on the repo's own labelled lines, carries what those lines have in common
to wording nobody here wrote, and costs a few dictionary look-ups per word.

Features, for each chunk of text (a sentence, and the whole text when it is short):

- ``w t``   every word t, after folding (NFKC, casefold, apostrophes dropped, look-alike
  digits and symbols inside words read as letters: "k!ll" -> "kill", "d1e" -> "die");
- ``c g``   every 3-, 4- and 5-letter piece of each word, with the word's edges marked
  ("<die>" gives "<di", "die", "ie>", "<die", "die>", "<die>"), so a typo or a new
  spelling still shares most of its pieces with the words in the training data;
- ``b a b`` every pair of neighbouring words, the first paired with a start marker;
- ``k C``   the class of each word in the filter's small lexicon (moderation/data/
  *_concepts.txt: "pills", "tablets", "rope" are MEANS; "tonight", "friday" are SOON;
  numbers are D1..D6 by length), and ``kb A B`` every pair of neighbouring classes, other
  words skipped. Classes are what lets "saved up my sertraline" share weight with "got the
  pills ready" although no word is the same.

A model may also hold a second reading's weights (`phrase_features`, the crisis model
does): ``t a b c`` every three words in a row and ``s a c`` every pair one word apart, with
its words and pairs added into ``w`` and ``b``. It is trained apart and summed in, and
weighs whole turns of phrase ("wont be needing") that the letter pieces blur.

Counts, not presence, so the score of a chunk is the sum over its words of a per-word part
(the word and its letter pieces, worked out once per distinct word and kept) plus one
look-up per word pair. That keeps the cost linear in the text and about a microsecond a
word; see bench/filters.py.

The weights are trained by ``make model`` (tools/train_filters.py, scikit-learn's logistic
regression, deterministic) and shipped as a small gzipped JSON file in moderation/data.
Inference needs nothing but the standard library.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import Path

__all__ = [
    "Chunk",
    "LinearTextModel",
    "chunks",
    "concept_of",
    "features",
    "fold",
    "phrase_features",
    "read",
    "read_concepts",
    "words",
]

_APOSTROPHES = {ord(ch): None for ch in "'’‘`´ʼ"}
# Look-alikes people use inside words to get past filters: "k!ll", "d1e", "$uicide", "su1c1de".
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l", "€": "e"})  # fmt: skip
# Sentence ends and line breaks. A full stop counts only before a space or the end, so
# "jane.doe" and "2.5mg" stay one piece.
# (Written to start with a character class, which the regex engine scans for quickly.)
_SENTENCE = re.compile(r"[.!?…\n][.!?…\n]*(?=\s|$)|\n")
# Slang and coded words, said the plain way so the model and the rules see one spelling.
_CODED = {
    "kms": "kill myself",
    "unalive": "kill",
    "unaliving": "killing",
    "unalived": "killed",
    "sewerslide": "suicide",
    "sewerslided": "suicided",
    "selfharm": "self harm",
    "selfharming": "self harming",
    "myslef": "myself",
    "mysef": "myself",
    "ctb": "catch the bus",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "cnt": "cant",
    "dnt": "dont",
    "u": "you",
    "ur": "your",
    "r": "are",
    "rn": "right now",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2moro": "tomorrow",
    "2nite": "tonight",
    "tn": "tonight",
    "nite": "night",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "no1": "no one",
    "noone": "no one",
    "every1": "everyone",
    "any1": "anyone",
    "some1": "someone",
    "gd": "good",
    "gn": "goodnight",
    "ily": "i love you",
    "idk": "i dont know",
    "idc": "i dont care",
    "idek": "i dont even know",
    "istg": "i swear",
    "tbh": "to be honest",
    "ngl": "not going to lie",
    "ded": "dead",
    "tonite": "tonight",
    "4ever": "forever",
    "4eva": "forever",
    "b": "be",
    "abt": "about",
    "agn": "again",
    "lst": "last",
    "nxt": "next",
    "wk": "week",
    "sry": "sorry",
    "pls": "please",
    "plz": "please",
    "msg": "message",
    "ppl": "people",
}


def fold(text: str) -> str:
    """Text as the features see it: NFKC, casefold, apostrophes dropped."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)


# Punctuation that separates words. Look-alike symbols ($ @ ! | € *) are kept inside words
# for `_unmask`; at a word's edges they are stripped as punctuation.
_SEPARATORS = {ord(ch): " " for ch in '.,;:?"()[]{}<>/\\-_+=&^%#~`\u2026\u2013\u2014\u00b7'}
# Emoji that say a word in chat, read as that word: "planning my exit 🪦", "the 🔪 is right
# here", "💊💊💊". (Other emoji are dropped with the rest of the symbols.)
_EMOJI_WORDS = {
    "\U0001faa6": "grave",  # headstone
    "\u26b0": "coffin",
    "\u26b1": "urn",
    "\U0001f52a": "knife",
    "\U0001fa78": "blood",
    "\U0001f48a": "pills",
    "\U0001f309": "bridge",
    "\U0001f52b": "gun",
    "\U0001faa2": "rope",  # knot
    "\U0001f480": "skull",
    "\u2620": "skull",
    "\U0001f44b": "bye",  # waving hand
    "\U0001f494": "heartbroken",
}
_SEPARATORS.update({ord(emoji): f" {word} " for emoji, word in _EMOJI_WORDS.items()})
_EDGES = ".,;:!?*|'\""


def _unmask(word: str) -> str:
    # "k!ll", "d1e", "$uicide", "su1c1de": a word that starts with a letter or a look-alike
    # symbol and has look-alikes inside. Numbers and measures ("2024", "50mg") stay as they are.
    if not any(ch.isalpha() for ch in word) or word[0].isdigit():
        return word
    return word.translate(_LEET).replace("*", "")


_CODED_WORDS = frozenset(_CODED)


def words(text: str) -> list[str]:
    """The words of already folded text, look-alikes read as letters and slang spelled out."""
    raw_words = text.translate(_SEPARATORS).split()
    # Most text is plain words and numbers with no slang: nothing to do word by word.
    plain = "".join(raw_words).isalpha() or all(map(_is_plain, raw_words))
    if plain and _CODED_WORDS.isdisjoint(raw_words):
        tokens = raw_words
    else:
        tokens = _words_one_by_one(raw_words)
    return tokens if _HANG.isdisjoint(tokens) else _phrasal_hang(tokens)


# "Hang" is a means in the lexicon, but "getting the hang of it", "hang out", "hang in
# there", "hang on", "hang up" are everyday talk: with its particle it is read as one
# word of its own ("hangout"), which the training lines give the weight of everyday talk.
_HANG = frozenset({"hang", "hanging"})
_HANG_PARTICLES = frozenset({"of", "out", "on", "in", "around", "about", "up", "tight", "over"})


def _phrasal_hang(tokens: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for word, following in itertools.zip_longest(tokens, tokens[1:]):
        if skip:
            skip = False
        elif word in _HANG and following in _HANG_PARTICLES:
            out.append(word + following)
            skip = True
        else:
            out.append(word)
    return out


def _is_plain(word: str) -> bool:
    # What `_words_one_by_one` would keep as it is: letters, or letters and digits that start
    # with a digit ("45", "50mg", "7pm": numbers and measures aren't look-alikes).
    return word.isalpha() or (word.isalnum() and word[0].isdigit())


def _words_one_by_one(raw_words: list[str]) -> list[str]:
    out: list[str] = []
    for raw in raw_words:
        word = raw
        if not raw.isalpha():
            word = raw.strip(_EDGES)
            if not word.isdigit():
                word = _unmask(word)
        if not word.isalnum():
            # What's left of symbols: "<3", "@@", "a$$": keep the letters and digits.
            word = "".join(ch for ch in word if ch.isalnum())
            if not word:
                continue
        plain = _CODED.get(word)
        if plain is None:
            out.append(word)
        else:
            out.extend(plain.split())
    return out


# Negation: the few words after "not", "never", "don't"... are marked ("never kill myself"
# -> "never !kill !myself"), so the model weighs "kill myself" and a denial of it apart.
# "nothing", "nobody" and "nowhere" aren't among them: they deny a thing, not what follows
# ("Nothing unusual here." read "here" as denied, the way "won't be here" is).
_NEGATORS = frozenset(
    {"not", "never", "no", "dont", "doesnt", "didnt", "wont", "wouldnt", "isnt", "arent",
     "wasnt", "werent", "cant", "cannot", "couldnt", "shouldnt"}
)  # fmt: skip
_NEGATION_ENDS = frozenset({"but", "though", "although", "however", "yet", "except"})
_NEGATION_SCOPE = 3


def mark_negation(tokens: list[str]) -> list[str]:
    """`tokens` with the words in a negation's scope prefixed by "!"."""
    if _NEGATORS.isdisjoint(tokens):
        return tokens
    out: list[str] = []
    scope = 0
    for token in tokens:
        if token in _NEGATORS:
            scope = _NEGATION_SCOPE
            out.append(token)
        elif token in _NEGATION_ENDS:
            scope = 0
            out.append(token)
        elif scope:
            scope -= 1
            out.append("!" + token)
        else:
            out.append(token)
    return out


def _pieces(word: str) -> list[str]:
    marked = f"<{word.removeprefix('!')}>"
    size = len(marked)
    return [marked[i : i + n] for n in (3, 4, 5) for i in range(size - n + 1)]


def concept_of(word: str, concepts: dict[str, str]) -> str | None:
    """The word's class in the model's lexicon ("pills" -> "MEANS"); numbers by length; a
    negated word's class is marked too ("!DEATH")."""
    if word[0] == "!":
        concept = concept_of(word[1:], concepts)
        return None if concept is None else "!" + concept
    if word.isdigit():
        return f"D{min(len(word), 6)}"
    return concepts.get(word)


def features(text: str, concepts: dict[str, str]) -> list[str]:
    """Every feature of one chunk of (folded) text, with repeats; what training counts."""
    tokens = mark_negation(words(text))
    out: list[str] = []
    classes = ["<s>"]
    for token in tokens:
        out.append("w " + token)
        out.extend("c " + piece for piece in _pieces(token))
        if (concept := concept_of(token, concepts)) is not None:
            out.append("k " + concept)
            classes.append(concept)
    for first, second in zip(["<s>", *tokens], tokens, strict=False):
        out.append(f"b {first} {second}")
    for first, second in itertools.pairwise(classes):
        out.append(f"kb {first} {second}")
    return out


def phrase_features(text: str) -> list[str]:
    """The features of the filter's second reading of one chunk of (folded) text: its words
    in order only, no letters or classes. Every word, every pair of neighbours, every three in
    a row and every pair one word apart, the first with a start marker. Trained apart from
    `features` and added to it (tools/train_filters.py), it weighs whole phrases ("wont be
    needing", "nobody will have") that the letter pieces and classes blur."""
    tokens = mark_negation(words(text))
    marked = ["<s>", *tokens]
    out = ["w " + token for token in tokens]
    out.extend(f"b {first} {second}" for first, second in itertools.pairwise(marked))
    out.extend(f"t {a} {b} {c}" for a, b, c in zip(marked, marked[1:], marked[2:], strict=False))
    out.extend(f"s {a} {c}" for a, c in zip(marked, marked[2:], strict=False))
    return out


def read_concepts(path: Path) -> dict[str, str]:
    """A lexicon file (moderation/data/*_concepts.txt, "CLASS: word word ...") as
    {word: class}; the first class listing a word wins."""
    concepts: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            concept, _, listed = line.partition(":")
            for word in listed.split():
                concepts.setdefault(word, concept.strip())
    return concepts


@dataclass(frozen=True)
class Chunk:
    # The whole short text, or a window of a long one's sentences, folded and on one line,
    # for a moderator to read.
    text: str
    # The model's log-odds for this chunk.
    score: float
    # The same piece folded with its line breaks kept, for rules that read lines.
    source: str = ""

    @property
    def probability(self) -> float:
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.score))))


# A text up to this long is read as one piece; a longer one in windows of whole sentences
# of about this size, so a thought that runs across two sentences ("I wrote the letters.
# Tonight's the night.") is read together while a long post's other paragraphs don't
# dilute it.
_WINDOW_CHARS = 400


def chunks(text: str) -> list[str]:
    """The pieces of (folded) `text` a model scores: all of a short text, or windows of
    consecutive sentences of a long one."""
    if len(text) <= _WINDOW_CHARS:
        return [text]
    windows: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in _SENTENCE.split(text):
        if not sentence.strip():
            continue
        if size + len(sentence) > _WINDOW_CHARS and current:
            windows.append(" ".join(current))
            # Windows overlap by a sentence, so no two neighbouring sentences are apart.
            current, size = current[-1:], len(current[-1])
        current.append(sentence)
        size += len(sentence) + 1
    if current:
        windows.append(" ".join(current))
    return windows


def pair_keys_of(tokens: list[str]) -> list[str]:
    """The neighbouring pairs of `tokens` as feature keys, the first with a start marker."""
    return list(map(" ".join, zip(["<s>", *tokens], tokens, strict=False)))


@lru_cache(maxsize=64)
def read(text: str) -> tuple[tuple[str, str, list[str], list[str]], ...]:
    """The chunks of `text`, each as shown to a moderator, as folded, as the model's words
    (negation marked) and as its word pairs. Kept for the last few texts, since both
    filters' models read the same one."""
    out = []
    for piece in chunks(fold(text)):
        tokens = mark_negation(words(piece))
        out.append((" ".join(piece.split()), piece, tokens, pair_keys_of(tokens)))
    return tuple(out)


class LinearTextModel:
    """Logistic regression over `features`, with its threshold (in log-odds)."""

    _CACHE_LIMIT = 100_000

    def __init__(
        self,
        weights: dict[str, float],
        bias: float,
        threshold: float,
        concepts: dict[str, str] | None = None,
        rules_gate: float = float("-inf"),
    ) -> None:
        self.bias = bias
        self.threshold = threshold
        # Below this score the filter's rules needn't run (see tools/train_filters.py).
        self.rules_gate = rules_gate
        self.concepts = concepts or {}
        by_kind: dict[str, dict[str, float]] = {
            "w": {}, "c": {}, "b": {}, "k": {}, "kb": {}, "t": {}, "s": {}
        }  # fmt: skip
        for name, weight in weights.items():
            kind, _, rest = name.partition(" ")
            by_kind[kind][rest] = weight
        self._words, self._pieces = by_kind["w"], by_kind["c"]
        self._pairs, self._concepts, self._concept_pairs = by_kind["b"], by_kind["k"], by_kind["kb"]
        # The phrase reading's three-word and one-apart pairs (phrase_features), if trained,
        # keyed by tuples of words: looked up straight from zip(), with no string built.
        self._triples = {tuple(key.split(" ")): weight for key, weight in by_kind["t"].items()}
        self._skips = {tuple(key.split(" ")): weight for key, weight in by_kind["s"].items()}
        self._weight_of: dict[str, float] = {}
        self._concept_of: dict[str, str | None] = {}

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        data = json.loads(gzip.decompress(path.read_bytes()))
        return cls(
            data["weights"],
            data["bias"],
            data["threshold"],
            data.get("concepts"),
            data.get("rules_gate", float("-inf")),
        )

    def _learn(self, new_words: set[str]) -> None:
        # Each word's own weight, its letter pieces' and its class's, and the class: the same
        # for every occurrence, so worked out once per distinct word and kept.
        if len(self._weight_of) + len(new_words) > self._CACHE_LIMIT:
            self._weight_of.clear()
            self._concept_of.clear()
        pieces = self._pieces
        for word in new_words:
            concept = concept_of(word, self.concepts)
            weight = self._words.get(word, 0.0) + sum(
                pieces.get(piece, 0.0) for piece in _pieces(word)
            )
            if concept is not None:
                weight += self._concepts.get(concept, 0.0)
            self._weight_of[word] = weight
            self._concept_of[word] = concept

    def _score_tokens(self, tokens: list[str], pair_keys: list[str] | None = None) -> float:
        # Sums over maps rather than a Python loop per word: the same arithmetic as the
        # features training counts (tests/moderation/test_textmodel.py), several times faster.
        if new_words := set(tokens).difference(self._weight_of):
            self._learn(new_words)
        if pair_keys is None:
            pair_keys = pair_keys_of(tokens)
        classes = list(filter(None, map(self._concept_of.__getitem__, tokens)))
        score = (
            self.bias
            + sum(map(self._weight_of.__getitem__, tokens))
            + sum(map(self._pairs.get, pair_keys, repeat(0.0)))
            + sum(map(self._concept_pairs.get, pair_keys_of(classes), repeat(0.0)))
        )
        if self._triples:
            marked = ["<s>", *tokens]
            triples = zip(marked, marked[1:], marked[2:], strict=False)
            score += sum(map(self._triples.get, triples, repeat(0.0)))
            score += sum(map(self._skips.get, zip(marked, marked[2:], strict=False), repeat(0.0)))
        return score

    def score(self, text: str) -> float:
        """Log-odds that one chunk of (unfolded) text is positive."""
        return self._score_tokens(mark_negation(words(fold(text))))

    def scored_chunks(self, text: str) -> Iterator[Chunk]:
        """Each chunk of `text` (see `chunks`) with its score."""
        for shown, piece, tokens, pair_keys in read(text):
            yield Chunk(shown, self._score_tokens(tokens, pair_keys), piece)

    def best_chunk(self, text: str) -> Chunk | None:
        """The highest-scoring chunk of `text`, or None for text with no words."""
        return max(self.scored_chunks(text), key=lambda chunk: chunk.score, default=None)

    def flags(self, text: str) -> Chunk | None:
        """The first chunk at or over the threshold, or None."""
        for chunk in self.scored_chunks(text):
            if chunk.score >= self.threshold:
                return chunk
        return None
