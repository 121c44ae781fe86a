"""Crisis language: a member saying, in the first person and about now, that they intend or
want to end their life or hurt themselves.

What happens when it matches is gentle on purpose. By default the post is *published* as
normal; the member is shown crisis resources straight away, and the post is flagged so peer
supporters see it first. The flag is the notice: a Decision whose ``notice["code"]`` is
``"crisis"`` goes to the top of the review queue (see ``Verdict.crisis`` in vetting.py). A
community can choose "hold" instead, in which case the post waits for a peer supporter and
the member is told so, with the same resources.

The trade-off: a missed crisis is far worse than a false alarm, and a false alarm here costs
little (a kind message and a helpline list), so matching leans towards recall. What we keep
out are the things that would make the message feel robotic or intrusive: figures of speech
("this commute is killing me", "dying to see it", "I'd rather die than sing karaoke"), talk
about someone else ("my brother said he wanted to die", "if you're thinking of killing
yourself, call..."), recovery stories ("I used to self-harm, 3 years free now") and news.

This module is the detector and the pipeline filter: the community's own crisis phrases,
the statistical model (moderation/textmodel.py) and the phrase rules (phrases.py), read
together. The helplines a member is shown are resources.py's; the filter is handed them.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

from core.i18n import N_, gettext
from moderation.contact.helplines import mask_helplines
from moderation.content import (
    Action,
    ContentKind,
    Filter,
    FilterInput,
    FilterResult,
    Reason,
    WatchedWord,
)
from moderation.crisis.phrases import CrisisMatch, find_by_rules, set_aside_by_rules
from moderation.crisis.spanish import (
    find_spanish,
    may_be_spanish,
    model_text,
    set_aside_spanish,
)
from moderation.language import mostly_spanish
from moderation.text import normalise
from moderation.textmodel import LinearTextModel, fold, read_concepts, words
from moderation.watched import compile_watched_words

__all__ = [
    "CRISIS_CODE",
    "SENSITIVITY",
    "crisis_filter",
    "detect_crisis",
    "find_crisis_language",
    "held_notice",
    "model_vetoed",
    "passed_on",
]

# The notice code that marks a decision as a crisis (for the review queue and the UI).
CRISIS_CODE = "crisis"


_MODEL_PATH = Path(__file__).parent.parent / "data" / "crisis_model.json.gz"
# The same kind of model, trained on the Spanish labelled lines (tests/moderation/data/es),
# reading Spanish as spanish.model_text folds it.
_SPANISH_MODEL_PATH = Path(__file__).parent.parent / "data" / "crisis_es_model.json.gz"


@cache
def _model() -> LinearTextModel:
    return LinearTextModel.load(_MODEL_PATH)


@cache
def _spanish_model() -> LinearTextModel:
    return LinearTextModel.load(_SPANISH_MODEL_PATH)


# How a community moves the model's threshold (in log-odds): "more" flags more wording that
# only sounds like a crisis (more false alarms, fewer missed), "fewer" flags only wording the
# model is surer of. The rules and the community's own phrases apply at every setting.
# docs/moderators.md gives each setting's cross-validated precision and recall.
SENSITIVITY: dict[str, float] = {"more": -1.0, "standard": 0.0, "fewer": 1.5}


# A few words are too little for the model to go on by itself ("Oak really listened" may
# score high on a couple of weights): a text of this few distinct words must touch one of
# these word classes (moderation/data/crisis_concepts.txt) for the model alone to flag it.
_SHORT_TEXT_WORDS = 4
_RISK_CLASSES = frozenset(
    {"DEATH", "MEANS", "HARM", "FINAL", "GONE", "BURDEN", "JOIN", "ORDER", "GIVE", "SOON"}
)


def model_vetoed(text: str) -> bool:
    """True when the model may not flag `text` on its own: a text of very few distinct
    words with no word of a risk class ("nailed it", or "i " typed ten thousand times, whose
    counts add up however little each says), or a crisis phrase the rules set aside (denied,
    in the past, about someone else, reported)."""
    if _too_little(text, _model().concepts):
        return True
    return bool(set_aside_by_rules(text))


def spanish_model_vetoed(text: str) -> bool:
    """model_vetoed's reading for Spanish: too few words with none of a risk class, or a
    crisis phrase the Spanish rules set aside (denied, past, someone else's, a figure of
    speech: "me muero de risa")."""
    if _too_little(model_text(text), _spanish_concepts()):
        return True
    return bool(set_aside_spanish(text))


@cache
def _spanish_concepts() -> dict[str, str]:
    # From the lexicon itself, not the model, so training can read it before a model exists.
    return read_concepts(_SPANISH_MODEL_PATH.parent / "crisis_es_concepts.txt")


def _too_little(text: str, concepts: dict[str, str]) -> bool:
    tokens = set(words(fold(text)))
    if len(tokens) > _SHORT_TEXT_WORDS:
        return False
    return not any(concepts.get(token) in _RISK_CLASSES for token in tokens)


def find_crisis_language(
    text: str,
    *,
    sensitivity: str = "standard",
    phrases: tuple[WatchedWord, ...] = (),
) -> CrisisMatch | None:
    """Why `text` reads as a first-person crisis (the community's own phrase, the rules'
    phrase, or the model's sentence), or None."""
    own = compile_watched_words(phrases).crisis if phrases else None
    if own is not None and (found := own.search(normalise(text))) is not None:
        return CrisisMatch(found.group(), "community")
    # Spanish has rules and a model of its own (spanish.py). The English model's reading of
    # Spanish words is noise ("no tenés que decidir nada esta noche" scores as a plan): a
    # text in Spanish (not Spanglish) is read by the Spanish rules and model alone.
    if may_be_spanish(text):
        if (found := find_spanish(text)) is not None:
            return found
        if (found := _spanish_model_reading(text, sensitivity)) is not None:
            return found
        if mostly_spanish(text):
            return None  # (the English rules and model have nothing to add)
    model = _model()
    # Both models read public helpline numbers as the word "helpline" (the contact model has
    # to; here it is a sign of help, not of a plan), so they share one reading of the text.
    read = list(model.scored_chunks(mask_helplines(text)))
    if not read:
        return None
    best = max(read, key=lambda chunk: chunk.score)
    # The model reads everything first; the phrase rules run only where it isn't sure the
    # text is benign (the whole of a short text, the windows of a long one that reach the
    # gate), and when they match, their phrase is the clearer reason to show.
    if len(read) == 1:
        for_rules = [text] if best.score >= model.rules_gate else []
    else:
        for_rules = [chunk.source for chunk in read if chunk.score >= model.rules_gate]
    for piece in for_rules:
        if (found := find_by_rules(piece)) is not None:
            return found
    # The rules' reading of who, when and whether still counts: a phrase they set aside as
    # denied, in the past or about someone else isn't a crisis because the model likes its
    # words ("I would never kill myself", "my brother wants to die").
    threshold = model.threshold + SENSITIVITY[sensitivity]
    if best.score >= threshold and not model_vetoed(best.text):
        return CrisisMatch(best.text, "model", best.probability)
    return None


def _spanish_model_reading(text: str, sensitivity: str) -> CrisisMatch | None:
    model = _spanish_model()
    best = model.best_chunk(model_text(text))
    if best is None or best.score < model.threshold + SENSITIVITY[sensitivity]:
        return None
    if spanish_model_vetoed(best.text):
        return None
    return CrisisMatch(best.text, "model", best.probability)


def detect_crisis(text: str) -> bool:
    """True when `text` contains first-person language about ending one's life or hurting
    oneself, now or soon."""
    return find_crisis_language(text) is not None


# --------------------------------------------------------------------------- the filter


class _ReaderText(HTMLParser):
    """The text a reader sees, minus quoted text: a supporter replying with "> I want to die"
    quoted from someone else is not in crisis themselves."""

    _BREAKS = frozenset({"p", "br", "li", "td", "th", "tr", "h3", "h4", "h5", "h6", "hr", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote":
            self._quote_depth += 1
        if tag in self._BREAKS:
            # Block boundaries end a sentence, so "...want to die" and the next cell or
            # paragraph aren't read as one clause.
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote" and self._quote_depth:
            self._quote_depth -= 1
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._quote_depth:
            self.parts.append(data)


def _reader_text(html: str) -> str:
    # Most chat messages and many posts are plain paragraphs (the pipeline's plain-text path):
    # nothing to parse but the paragraph tags and entities.
    bare = html.replace("<p>", "").replace("</p>", "")
    if "<" not in bare:
        # Paragraphs are already apart on lines of their own. The same text as the pipeline's
        # visible text, so the two filters' models share one reading of it.
        return html_lib.unescape(bare)
    parser = _ReaderText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


# One whole sentence per kind of words, so each language can word it its own way.
_PUBLISHED: dict[ContentKind, str] = {
    ContentKind.TITLE: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone: your title is up, and people here care. If you might act on these "
        "thoughts, please reach out to someone now:"
    ),
    ContentKind.POST: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone: your post is up, and people here care. If you might act on these "
        "thoughts, please reach out to someone now:"
    ),
    ContentKind.CHAT: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone: your message is up, and people here care. If you might act on these "
        "thoughts, please reach out to someone now:"
    ),
    ContentKind.PROFILE: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone: your profile is up, and people here care. If you might act on these "
        "thoughts, please reach out to someone now:"
    ),
    ContentKind.NOTE: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone: your note is up, and people here care. If you might act on these "
        "thoughts, please reach out to someone now:"
    ),
}

_WAITING: dict[ContentKind, str] = {
    ContentKind.TITLE: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone, and people here care. Your title is waiting: a peer supporter or "
        "moderator will read it first, and it goes to the front of their queue. You "
        "don't have to wait to get help. If you might act on these thoughts, please "
        "reach out to someone now:"
    ),
    ContentKind.POST: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone, and people here care. Your post is waiting: a peer supporter or "
        "moderator will read it first, and it goes to the front of their queue. You "
        "don't have to wait to get help. If you might act on these thoughts, please "
        "reach out to someone now:"
    ),
    ContentKind.CHAT: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone, and people here care. Your message is waiting: a peer supporter or "
        "moderator will read it first, and it goes to the front of their queue. You "
        "don't have to wait to get help. If you might act on these thoughts, please "
        "reach out to someone now:"
    ),
    ContentKind.PROFILE: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone, and people here care. Your profile is waiting: a peer supporter or "
        "moderator will read it first, and it goes to the front of their queue. You "
        "don't have to wait to get help. If you might act on these thoughts, please "
        "reach out to someone now:"
    ),
    ContentKind.NOTE: N_(
        "It sounds like you're going through something really hard right now. You're "
        "not alone, and people here care. Your note is waiting: a peer supporter or "
        "moderator will read it first, and it goes to the front of their queue. You "
        "don't have to wait to get help. If you might act on these thoughts, please "
        "reach out to someone now:"
    ),
}

_PASSED_ON: dict[ContentKind, str] = {
    ContentKind.TITLE: N_(
        "Your title has been passed to a peer supporter, who will look at it soon. If "
        "you want to talk to someone right now, the people below are there for you."
    ),
    ContentKind.POST: N_(
        "Your post has been passed to a peer supporter, who will look at it soon. If "
        "you want to talk to someone right now, the people below are there for you."
    ),
    ContentKind.CHAT: N_(
        "Your message has been passed to a peer supporter, who will look at it soon. If "
        "you want to talk to someone right now, the people below are there for you."
    ),
    ContentKind.PROFILE: N_(
        "Your profile has been passed to a peer supporter, who will look at it soon. If "
        "you want to talk to someone right now, the people below are there for you."
    ),
    ContentKind.NOTE: N_(
        "Your note has been passed to a peer supporter, who will look at it soon. If "
        "you want to talk to someone right now, the people below are there for you."
    ),
}


def _publish_message(kind: ContentKind) -> str:
    return gettext(_PUBLISHED[kind])


def _hold_notice_message(kind: ContentKind) -> str:
    return gettext(_WAITING[kind])


def held_notice(notice: dict[str, Any], kind: ContentKind) -> dict[str, Any]:
    """The crisis notice for words that wait for a reader, whatever held them (the
    new-member hold, a watched word, the community's crisis action): the filter says "your
    post is up" when it alone would publish, which is untrue of a held post."""
    return {**notice, "message": _hold_notice_message(kind)}


def passed_on(kind: ContentKind) -> str:
    """What the author of crisis words that wait for a reader is told: "passed to a peer
    supporter". Said too when something else held them (the author's being new), whose own
    words ("Welcome! …") would greet someone who may be in crisis."""
    return gettext(_PASSED_ON[kind])


def _hold_reason(kind: ContentKind) -> Reason:
    return Reason(CRISIS_CODE, passed_on(kind))


def crisis_filter(
    resources_for: Callable[[], list[dict[str, Any]]],
    action: Literal["publish", "hold"] = "publish",
    *,
    sensitivity: str = "standard",
    phrases: tuple[WatchedWord, ...] = (),
) -> Filter:
    """A pipeline filter that answers crisis language with support.

    On a match the result carries ``notice = {"code": "crisis", "message": ..., "resources":
    resources_for()}``. That notice code is the flag the caller uses to put the content at the
    top of the review queue (``Verdict.crisis``, moderation/vetting.py). With action
    "publish" (the default) the content is still published; with "hold" it waits for a peer
    supporter and the reason (code "crisis") tells the member so.

    `resources_for` is called only when there is a match, so looking up the member's region
    costs nothing for ordinary posts. The pipeline merges notices key by key with the first
    filter winning, so if another filter can also set "code", put this one first.

    `sensitivity` ("more", "standard", "fewer"; see SENSITIVITY) moves the model's threshold;
    `phrases` are the community's watched words, of which those with action "crisis" count
    as crisis language wherever they appear. Why the text was flagged goes to moderators in
    ``flags["crisis"]``, never to the author.
    """
    if action not in ("publish", "hold"):
        raise ValueError(f"action must be 'publish' or 'hold', not {action!r}")
    if sensitivity not in SENSITIVITY:
        raise ValueError(f"sensitivity must be one of {sorted(SENSITIVITY)}, not {sensitivity!r}")

    def filter_(item: FilterInput) -> FilterResult | None:
        found = find_crisis_language(
            _reader_text(item.html), sensitivity=sensitivity, phrases=phrases
        )
        if found is None:
            return None
        flags = {CRISIS_CODE: found.why}
        if action == "hold":
            message = _hold_notice_message(item.kind)
        else:
            message = _publish_message(item.kind)
        notice = {"code": CRISIS_CODE, "message": message, "resources": resources_for()}
        if action == "hold":
            return FilterResult(Action.HOLD, _hold_reason(item.kind), notice=notice, flags=flags)
        return FilterResult(Action.PUBLISH, notice=notice, flags=flags)

    return filter_
