"""Which language a member's text is in, told from the text itself: the filters see every
text whatever the interface language (a member may write Spanish on an English page), so
the Spanish crisis and contact rules are gated on the words, never on a setting.

A handful of set look-ups per text, so an English post pays almost nothing for the check.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["ENGLISH_WORDS", "looks_spanish", "mostly_spanish", "word_counts"]

# Words common in Spanish and rare in English (accents dropped, as typed on a phone too).
_SPANISH_WORDS = frozenset(
    {
        "que", "qué", "q", "k", "de", "del", "al", "la", "el", "él", "los", "las", "una", "unos",
        "y", "en", "es", "son", "soy", "fue", "era", "hay", "por", "para", "con", "sin", "pero",
        "sino", "aunque", "porque", "xq", "pq", "cuando", "donde", "como", "cómo", "mi", "mis",
        "tu", "tus", "te", "lo", "le", "les", "nos", "yo", "ella", "ellos", "este", "esta", "está",
        "esto", "ese", "esa", "eso", "estoy", "toy", "estar", "tengo", "tngo", "tiene", "quiero",
        "kiero", "puedo", "pienso", "siento", "creo", "voy", "hago", "nadie", "nada", "todo",
        "todos", "siempre", "nunca", "ahora", "hoy", "mañana", "ayer", "noche", "día", "dia",
        "vida", "muerte", "morir", "mejor", "peor", "ganas", "miedo", "mismo", "otra", "otro",
        "vez", "cosa", "cosas", "casa", "familia", "mamá", "papá", "hermano", "hermana",
        "amigo", "amiga", "gracias", "bueno", "bien", "mal", "aquí", "aqui", "aki", "allí",
        "ya", "también", "más", "mas", "muy", "ni", "ojalá", "ojala", "demasiado", "prefiero",
        "duele", "sentido", "seguir", "vdd", "nmms", "neta", "wey", "alv", "pues", "nomás",
    }
)  # fmt: skip
# Words common in English (in Spanglish there are rarely more of them than Spanish ones).
ENGLISH_WORDS = frozenset(
    {
        "the", "i", "to", "and", "of", "is", "it", "you", "my", "in", "that", "for", "was",
        "on", "im", "i'm", "with", "this", "have", "be", "just", "but", "so", "at", "are",
        "not", "dont", "don't", "want", "can't", "cant", "what", "like", "all", "do", "your",
        "about", "they", "he", "she", "we", "or", "if", "from", "an", "will", "would", "been",
        "call", "text", "email", "add", "ring", "number", "phone", "message", "our", "his",
        "her", "them", "there", "here", "how", "when", "where", "who", "why", "please",
        "thanks", "know", "get", "got", "one", "two", "three", "four", "five", "six", "seven",
        "eight", "nine", "zero", "oh", "double", "triple", "then", "after", "first", "last",
    }
)  # fmt: skip
_SPANISH_LETTERS = re.compile(r"[ñ¿¡áéíóú]")
_PUNCTUATION = str.maketrans({ch: " " for ch in ',.;:!?¿¡()"…'})


@lru_cache(maxsize=256)
def word_counts(text: str) -> tuple[int, int]:
    """How many distinct words of `text` are common Spanish ones, and how many common English
    ones. Kept for the last few texts: the crisis and contact filters both ask, of the same
    text, and the answer costs a casefold and a split."""
    tokens = set(text.casefold().translate(_PUNCTUATION).split())
    return len(tokens & _SPANISH_WORDS), len(tokens & ENGLISH_WORDS)


def looks_spanish(text: str) -> bool:
    """True when `text` reads as Spanish: more distinct Spanish words than English ones, and
    at least two of them, or one and a letter or mark only Spanish uses ("ñ", "¿", "á").
    Cheap (one split, set look-ups), so it gates the Spanish rules."""
    spanish, english = word_counts(text)
    if spanish < 2 and not (spanish and _SPANISH_LETTERS.search(text.casefold())):
        return False
    return spanish > english


def mostly_spanish(text: str) -> bool:
    """True when `text` reads as Spanish with hardly any English in it (one English word
    at most): Spanglish ("ya escribí la carta. I left it under my pillow") is read by the
    English model too."""
    return looks_spanish(text) and word_counts(text)[1] <= 1
