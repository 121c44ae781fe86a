"""The phrase rules for crisis language: first-person phrases about now, and what sets a
phrase aside (someone else, a denial, the past, reported speech, a figure of speech).

How it works: the text is normalised (NFKC, casefold, apostrophes dropped: "I'm" -> "im"),
split into clauses at sentence ends and at contrast words ("but", "though"), and each clause
is checked against phrase patterns. Each pattern may need a first-person subject: walking
back from the phrase, the first word that says who it's about must be "i"/"im"/"my"... ("i
rly just want to die"), or there must be none at all ("want to die tbh"); "he", "you", "my
friend", "the" stop it. A pattern may be cancelled by a negation just before it ("I would
never kill myself"). A
clause is skipped when it talks about the distant past ("years ago", "used to", "when I was
15") or reports someone else's words ("he said..."). Splitting on "but" is what lets
"I used to self-harm but tonight I want to cut again" still match.

Regular-expression safety: the patterns run on normalised clauses in which every gap is a
single space, and contain only literal alternations and bounded repeats.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from moderation.text import normalise


@dataclass(frozen=True)
class CrisisMatch:
    """Why text reads as a crisis: the detector's answer, whichever reader found it (the
    rules make one here; the model and a community's own phrases in crisis/__init__.py)."""

    # The words that matched, in normalised form ("i want to kill myself"), or for the
    # model the passage it read as a crisis (folded, on one line); for a peer supporter.
    phrase: str
    # "rules" (a phrase pattern), "model" (the statistical model, see moderation.textmodel)
    # or "community" (one of the community's own crisis phrases).
    by: Literal["rules", "model", "community"] = "rules"
    # The model's probability, for matches by the model.
    probability: float | None = None

    @property
    def why(self) -> str:
        """What a peer supporter is shown about why this was flagged."""
        if self.by == "model":
            return (
                f"the wording of \u201c{_shorten(self.phrase)}\u201d reads as a crisis "
                f"(model, {self.probability:.2f})"
            )
        if self.by == "community":
            return f"matched this community's crisis phrase \u201c{_shorten(self.phrase)}\u201d"
        return f"matched the phrase \u201c{_shorten(self.phrase)}\u201d"


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --------------------------------------------------------------------------- building blocks

# Words that make a phrase about someone or something else: "my brother said he wanted to
# die", "the thought of dying", "10 ways to die in minecraft".
_OTHER_SUBJECT = frozenset(
    {
        "he", "she", "they", "you", "u", "ya", "ye", "we", "who", "it", "its", "hes", "shes",
        "theyre", "youre", "were", "whoever", "everyone", "everybody", "someone", "somebody",
        "anyone", "anybody", "people", "person", "friend", "friends", "brother", "sister", "mum",
        "mom", "mother", "dad", "father", "son", "daughter", "partner", "husband", "wife",
        "boyfriend", "girlfriend", "bf", "gf", "kid", "kids", "child", "children", "cousin",
        "uncle", "aunt", "grandma", "grandad", "grandpa", "nan", "teacher", "student", "client",
        "patient", "character", "book", "film", "movie", "show", "song", "game", "video",
        "article", "news", "story", "the", "a", "an", "this", "that", "these", "those", "his",
        "her", "their", "your", "our"
    }
)  # fmt: skip
_FIRST_PERSON = frozenset({"i", "im", "ive", "id", "ill", "me", "my"})
_NEGATIONS = frozenset({"not", "never", "dont", "didnt", "wont", "wouldnt", "no", "isnt", "arent"})

# Clause breaks: sentence ends, line breaks, dashes, and contrast words.
_CLAUSE_BREAK = re.compile(
    r"[.!?;:\n\u2026\u2013\u2014]+|\s-\s|\b(?:but|however|although|though|whereas|except)\b"
)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NON_WORD = re.compile(r"[^\w]+")

# The distant past, in the same clause: recovery stories, not a crisis now.
_DISTANT_PAST = re.compile(
    r"\b(?:used to|(?:years|months|decades) (?:ago|back)|back (?:then|in|when)"
    r"|in (?:19|20)\d\d|when i was (?:younger|little|small|a (?:kid|child|teen|teenager)|\d+"
    r"|in (?:school|college|uni|university|high school))|as a (?:teen|teenager|kid|child|student)"
    r"|in the past|previously|(?:years|months|weeks|days) (?:free|clean|sober)"
    r"|clean (?:from|of) (?:self harm|sh|cutting)|since i last|i survived|(?:was|were) suicidal"
    r"|at the time|(?:after|since) my (?:suicide )?attempt"
    r"|my (?:last|previous|first|past) attempt)\b"
)
# Someone else's words: "my friend told me she wants to die", 'he said "I want to die"', or
# their question.
_REPORTED = re.compile(
    r"\b(?:he|she|they|someone|somebody|people|friend|brother|sister|mum|mom|mother|dad"
    r"|father|son|daughter|partner|husband|wife|boyfriend|girlfriend|bf|gf|kid|child|cousin"
    r"|student|client|patient|character)(?: \w+){0,2} (?:said|says|told|tells|texted|texts"
    r"|wrote|writes|messaged|keeps saying|kept saying|mentioned|admitted|posted|threatened"
    r"|threatens|tweeted)\b"
    # A question someone asked: "the GP asked if I'd thought about ending my life".
    r"|\b(?:asked|asks|asking) (?:me )?(?:if|whether)\b"
)

# What "cut" is about when it isn't self-harm: "cut my hair", "cut down", "cut people off".
_CUT_EXCL = (
    r"(?! (?:my|the|a|an|down|back|out|off|it|them|him|her|ties|contact|people|carbs|sugar"
    r"|things|you|in|up|loose|corners|class|classes|school|hair|costs|ties|short|through"
    r"|across|some|this|that|those|these|everyone|everything|out)\b)"
)
# "dead" that isn't about dying: "dead tired", "dead inside", "dead serious".
_DEAD_EXCL = (
    r"(?! (?:tired|inside|serious|set|on|wrong|right|last|good|easy|quiet|bored|jealous|funny"
    r"|honest|embarrassed|meat|weight|end|beat|broke|boring|lucky)\b)"
)

_OBJ_INTENT = (
    r"(?:kill myself|end it all|end it|end (?:my (?:own )?life|everything|things)"
    rf"|take my (?:own )?life|cut myself|cut{_CUT_EXCL}|self harm|sh|hurt myself|harm myself"
    r"|overdose|od|jump (?:off|from|in front)|hang myself|unalive myself|commit suicide|kms"
    r"|not (?:be here|exist|wake up|be alive|be around)|stop existing|disappear forever"
    r"|sleep forever|be gone(?: forever)?$|do something (?:stupid|drastic)|unalive"
    r"|disappear (?:and never come back|for good|permanently)"
    r"|take (?:all|too many) (?:of )?(?:my |the )?(?:pills|tablets|meds)"
    rf"|be dead{_DEAD_EXCL})"
)
_INTENT = (
    r"(?:want to|wanna|ready to|decided to|planning to|plan to|tempted to|going to|gonna"
    r"|about to|will|ll|intend to|trying to|try to|gotta|need to)"
    r"(?: (?:just|really|honestly|finally|actually|fucking))?"
)
_INTENT_DIE = (
    r"(?:want to|wanna|ready to|decided to|planning to|plan to|tempted to|gotta|need to)"
    r"(?: (?:just|really|honestly|finally|actually|fucking))?"
)
_THINK = (
    r"(?:thinking (?:about|of)|think (?:about|of)|thought (?:about|of)|thoughts (?:of|about)"
    r"|cant stop thinking about|obsessing (?:over|about)|fantasi[sz]ing about|dreaming (?:about|of)"
    r"|feel like|feeling like|felt like|considering|contemplating|close to|on the verge of"
    r"|on the edge of)"
)
_OBJ_GERUND = (
    r"(?:suicide|killing myself|ending (?:it all|it|my (?:own )?life|everything|things)"
    rf"|taking my (?:own )?life|dying|being dead|cutting myself|cutting{_CUT_EXCL}"
    r"|self harm(?:ing)?|sh|harming myself|hurting myself|overdosing|oding"
    r"|jumping (?:off|from|in front)|hanging myself|not waking up|not being (?:here|alive|around)"
    r"|disappearing forever|unaliving myself"
    r"|taking (?:all|too many) (?:of )?(?:my |the )?(?:pills|tablets|meds|paracetamol))"
)
# After a phrase, words that make it a figure of speech or about something else.
_FIGURATIVE_AFTER = re.compile(
    r" (?:(?:of|from|with) (?:embarrassment|shame|boredom|cringe|laughter|laughing|happiness"
    r"|excitement|envy|jealousy|hunger|thirst|heat|cold|curiosity|old age)|laughing|for\b"
    r"|on (?:this|that) hill"
    r"|than\b|if i (?:have|had) to\b)"
)
_NOT_SELF_HARM_AFTER = re.compile(
    r" (?:off\b|while|when|shaving|cooking|chopping|slicing|opening|by accident|accidentally"
    r"|on (?:a|the|some|broken|glass|paper)\b|playing|at (?:the gym|football|work|training)"
    r"|lifting|running|skiing|falling|exercising|working out|in (?:a|the) (?:fall|gym|accident))"
)
_KILLING_FIGURATIVE_AFTER = re.compile(
    r" (?:laughing|at (?:the gym|work|uni|school|college)|in the gym|over\b|for\b|trying\b"
    r"|working\b|studying\b|with work\b|to (?:finish|get|make|meet|pass|keep)\b)"
)
_END_IT_WITH = re.compile(r" (?:with|between)\b")
_GOODBYE_NOT_FINAL = re.compile(
    r"\b(?:signing off|logging off|heading (?:off|out|to|home)|off to bed|going to (?:bed|work"
    r"|sleep|school)|gotta go|got to go|brb|ttyl|for now|see you|see ya|catch you"
    r"|talk (?:soon|later|tomorrow)|off to|on holiday"
    r"|on vacation|be back|im back|until next|till next|for the (?:night|weekend|week|day)"
    r"|good ?night|have a (?:good|great|nice)|before|for (?:today|tonight|a while)"
    r"|in this (?:series|thread)|of the (?:day|year|night))\b"
)


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    # Needs "i"/"im"/"my"... before it, or nothing at all (a dropped subject: "want to die").
    subject: bool = True
    # A "not"/"never"/"dont" just before it cancels it ("i would never kill myself").
    negatable: bool = True
    # Text after the match that makes it something else ("...laughing", "...with him").
    unless_after: re.Pattern[str] | None = None
    # Anything in the clause that makes it something else ("signing off for the night").
    unless_in_clause: re.Pattern[str] | None = None


def _p(
    regex: str,
    *,
    subject: bool = True,
    negatable: bool = True,
    unless_after: re.Pattern[str] | None = None,
    unless_in_clause: re.Pattern[str] | None = None,
) -> _Pattern:
    return _Pattern(
        re.compile(rf"\b(?:{regex})\b"), subject, negatable, unless_after, unless_in_clause
    )


_PATTERNS: tuple[_Pattern, ...] = (
    # Intent, with the method or outcome: "i want to kill myself", "im going to end it tonight".
    _p(rf"{_INTENT} {_OBJ_INTENT}", unless_after=_END_IT_WITH),
    _p(rf"{_INTENT_DIE} die", unless_after=_FIGURATIVE_AFTER),
    _p(rf"urges? to {_OBJ_INTENT}|urges? to die", subject=False),
    # Ideation: "i keep thinking about killing myself", "feeling like ending it all".
    _p(
        rf"{_THINK}(?: (?:just|finally|actually|really|seriously|about))? {_OBJ_GERUND}",
        unless_after=_END_IT_WITH,
    ),
    # Self-referential phrases that need no subject.
    _p(
        r"kill myself|killing myself|killed myself",
        subject=False,
        unless_after=_KILLING_FIGURATIVE_AFTER,
    ),
    _p(r"kms|unalive (?:myself|me)", subject=False),
    _p(r"(?:end|ending|ended|take|taking|took) my (?:own )?life", subject=False),
    _p(
        r"(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|burned|burnt) myself",
        subject=False,
        unless_after=_NOT_SELF_HARM_AFTER,
    ),
    _p(r"suicidal"),
    _p(
        r"my suicide(?! attempt)|(?:my|a) suicide (?:plan|note|letter)|planning (?:my )?suicide"
        r"|have a plan to (?:die|kill myself|end (?:it|my life))",
        subject=False,
    ),
    _p(
        r"(?:wrote|written|writing|write|finished|left) (?:my (?:suicide |goodbye )?(?:note|letter)"
        r"|a (?:suicide|goodbye) (?:note|letter))"
    ),
    # Passive ideation.
    _p(
        r"(?:dont|do not|didnt|no longer|never|not) (?:really |even |actually |honestly )?"
        r"want(?:ing)? to (?:live|be alive|exist|be here|wake up|go on|carry on|keep going"
        r"|be around|keep living|be on this earth)(?! (?:with|in|at|near|there|without|on|for"
        r"|alone|here)\b)",
        negatable=False,
    ),
    _p(
        r"wish (?:i was|i were|i could be|id be|i had been|id been|i could just be) dead"
        r"|wish (?:i had|id) never (?:been born|existed)"
        r"|wish i (?:was|were) (?:never born|not alive|not here|gone)"
        r"|wish i (?:wasnt|werent|was not|were not) (?:alive|here|born|around)"
        r"|wish i (?:could )?(?:just )?(?:die|stop existing|not exist|disappear forever)"
        r"|wish i (?:didnt|did not) (?:exist|wake up)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:hope|hoping|wish|pray|praying|want|wanna) (?:that )?(?:i )?(?:dont|do not|never|wont"
        r"|will not|wouldnt|not to|to not|to never|never to|not) wake up"
        r"|(?:sleep|asleep) and (?:not|never) wake up|and (?:not|never) wake up",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:want|need|wish) (?:it all|everything|all of this|this all|life) (?:all )?to"
        r" (?:end|be over|stop)|(?:want|need|wish) it to (?:end|be over)(?: (?:now|forever))?$"
    ),
    _p(r"(?:disappear|vanish) forever"),
    _p(r"done with (?:life|living|everything|it all|this life|being alive)$|want out$"),
    _p(
        r"(?:tired|sick) of (?:living|being alive|existing|life)\b(?! (?:with|in|at|here|there"
        r"|on|under|paycheck|alone|together)\b)"
    ),
    _p(
        r"(?:better off|happier|easier|better) without me\b"
        r"|(?:a|such a) burden (?:to|on) (?:everyone|everybody|my family|them|you all|the people)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:better off|happier|easier|better) (?:if|when|once) i (?:just |finally )?"
        r"(?:(?:was|were) (?:dead|gone|not (?:here|around|alive))|(?:wasnt|werent) (?:here|around"
        r"|alive)|died|disappeared|didnt exist|never existed|killed myself|was never born)"
        r"|this is the end (?:for me|of me|of the road for me)"
        r"|(?:am i the only one|anyone else|does anyone else|is anyone else) (?:who )?(?:thinks?"
        r"|thought|wants?|wishes|feels?) (?:about |like )?(?:dying|suicide|killing (?:myself"
        r"|themselves)|ending it|to die|being dead|not waking up)"
        r"|(?:other than|except|besides|apart from) (?:ending it|dying|killing myself|suicide"
        r"|ending my life)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"better off (?:if i (?:was|were|wasnt|werent|died|was dead|were dead|was gone"
        r"|were gone|wasnt here|werent here|wasnt around|didnt exist|never existed))",
        subject=False,
        negatable=False,
    ),
    _p(rf"better off dead{_DEAD_EXCL}", negatable=False),
    _p(
        r"(?:id|i would) rather (?:be dead|die)",
        subject=False,
        negatable=False,
        unless_after=_FIGURATIVE_AFTER,
    ),
    _p(
        r"(?:nobody|no one|noone) (?:would|will|is going to|gonna) (?:miss|notice|care)"
        r"(?: about)?(?: me)? if i (?:was|were|died|disappeared|left|killed|ended|didnt)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"no (?:reason|point) (?:for me )?(?:to|in) (?:live|living|being alive|go on|going on"
        r"|carry on|carrying on|keep going|exist|existing)|nothing (?:left )?to live for",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:see|whats|what is|theres|there is|no) (?:the |any )?point (?:in|of) (?:living"
        r"|being alive|life|going on|carrying on|existing|staying alive|me being here)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:life|living) (?:isnt|is not|aint|is no longer) worth (?:living|it)"
        r"|not worth living",
        subject=False,
        negatable=False,
    ),
    _p(
        r"cant (?:go on|carry on|keep going|keep living|live like this)"
        r"(?: (?:anymore|any more|any longer|much longer|like this))?$"
        r"|cant (?:do this|take (?:it|this)|cope) (?:anymore|any more|any longer)$",
        negatable=False,
    ),
    _p(
        r"(?:wont|will not) be (?:around|here|alive) (?:much longer|for much longer|for long"
        r"|anymore|any more|by (?:tomorrow|morning|the weekend|next week))",
        negatable=False,
    ),
    _p(
        r"by the time (?:you|anyone|someone|somebody|people) (?:read|reads|see|sees) this",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:(?:dont|do not) think ill|(?:not|never) (?:going to|gonna)) (?:make it|survive|last"
        r"|be alive|be here)(?: through)?(?: (?:tonight|the night|today|this week|the weekend"
        r"|much longer))",
        negatable=False,
    ),
    _p(
        r"how (?:much )?(?:longer|long) i can (?:hold on|keep going|go on|carry on|do this"
        r"|cope|keep fighting|stay alive|last)",
        negatable=False,
    ),
    _p(
        r"(?:(?:only|no)|(?:see|find) (?:any|a)) way out(?! of (?:this|the|my|that) (?:contract"
        r"|job|deal|lease|house|relationship|course|situation)\b)"
        r"|only way (?:to make (?:it|this|the pain) stop|to escape)"
        r"|part of me (?:wants|want) to (?:die|end it|kill myself|disappear|not (?:exist|be here))",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:imagining|imagine|planning|thinking about|picturing|plan) my (?:own )?funeral"
        r"|planning how (?:i|id|ill|to) (?:would |will |could )?do it"
    ),
    _p(
        r"(?:painless|quickest|easiest|best|fastest|surest) (?:way|ways|method|methods) to"
        r" (?:die|go|end it|kill myself|do it)"
        r"|how many (?:pills|tablets|paracetamol)(?: (?:it )?would (?:it )?take| to (?:die|kill"
        r"|od|overdose))",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:giving|given|gave) away (?:all )?my (?:things|stuff|belongings|possessions)"
        r"|(?:said|saying|say) my goodbyes",
        negatable=False,
    ),
    _p(
        r"(?:ways|how|methods) to (?:die|kill myself|end (?:it all|it|my life)|commit suicide"
        r"|overdose)"
    ),
    _p(
        r"my (?:wrists?|arms?|legs?|thighs?) (?:are|is|wont stop|keep) bleeding",
        subject=False,
        negatable=False,
    ),
    _p(
        r"why (?:cant|can not|cannot|couldnt) i (?:just )?(?:die|be dead|not exist|disappear)",
        subject=False,
        negatable=False,
    ),
    # Goodbyes.
    _p(
        r"(?:goodbye|bye|farewell) (?:everyone|everybody|all|all of you|guys|you all|yall|world"
        r"|forever|cruel world)|saying (?:my )?goodbyes? to (?:everyone|everybody|you all"
        r"|all of you|you guys|the world)",
        subject=False,
        negatable=False,
        unless_in_clause=_GOODBYE_NOT_FINAL,
    ),
    _p(
        r"(?:this is|this will be|this ll be|this is going to be|heres) my (?:last|final)"
        r" (?:post|message|goodbye|words|note)",
        subject=False,
        negatable=False,
        unless_in_clause=_GOODBYE_NOT_FINAL,
    ),
    _p(
        r"if (?:im|i am) not (?:here|around|alive) (?:tomorrow|in the morning|anymore|any more"
        r"|by (?:tomorrow|morning|the weekend))",
        subject=False,
        negatable=False,
    ),
    # Indirect intent: leaving others better off, checking out, not being here by a time.
    _p(
        r"(?:better|betr|bettr|happier|easier|lighter|safer|freer) (?:life|lives|off|world)?"
        r" ?(?:without me|w o me|with me (?:gone|dead|out of the (?:way|picture)))"
        r"|(?:take|taking|took|remove|removing|get|getting) myself out of (?:the|this)"
        r" (?:picture|equation|world)|remov\w{0,3} myself (?:permanently|for good)"
        r"|(?:once|when|after) (?:im|i am) (?:gone|dead|out of the (?:way|picture))"
        r"(?! (?:for|on|to)\b)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"check(?:ing)? out (?:for good|permanently|of (?:this|my) life|of life)"
        r"|(?:last|final) (?:time|message) (?:youll|you will|anyone will|anybody will|you ll)"
        r" (?:hear from|see) me|whoever (?:finds|find) me|(?:so|when) (?:they|someone) finds? me",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:set|picked|chosen|chose|decided on|circled) (?:a|the) (?:date|day|time|night)"
        r" (?:for it|to do it|to die|to end it|to go through with it)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:wrote|written|writing|write|finished|left|sealed) (?:my |the |all my |each of my )?"
        r"(?:goodbye|farewell|suicide|last|final) (?:letters|notes|messages|emails|videos)"
    ),
    # Passive wishes, said sideways.
    _p(
        r"(?:envy|jealous of) (?:people|anyone|those) who (?:die|died|get to die)"
        r"|(?:dont|do not|didnt) care (?:if|whether) i (?:live|die|wake up|make it)"
        r"|(?:welcome|welcomed) death|relieved if i (?:didnt|did not|never) (?:make it|wake up"
        r"|survive|come back)",
        subject=False,
        negatable=False,
    ),
    # "ctb" ("catch the bus"): a coded word for suicide in some communities.
    _p(r"ctb", subject=False),
    # Means and places.
    _p(
        r"(?:pills|tablets|meds|rope|blade|razor|noose) (?:are |is )?(?:ready|next to me"
        r"|beside me|in front of me|in my hand)"
        r"|(?:stockpil\w{0,6}|hoard\w{0,5}|saving up|saved up|collecting|collected|counting out)"
        r" (?:my |all my |the |enough )?(?:pills|tablets|meds|medication|paracetamol)"
        r"|(?:bought|got|have|found|tied) (?:a|the) (?:rope|noose)(?! for\b)"
        r"|(?:enough|all the|all my) (?:pills|tablets|meds|paracetamol) to (?:die|end it"
        r"|kill myself|do it|not wake up|od|overdose)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:standing|sitting|stood|sat) (?:on|at) (?:the|a) (?:edge|ledge|bridge|cliff|roof"
        r"|rooftop|train tracks|railway|tracks)(?: of (?:the |a )?\w+)? (?:right now|now|tonight"
        r"|rn)",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:took|taken|take|taking|had) (?:an |another )?overdose|overdosed"
        r"|took (?:all|too many|a load of|a lot of|a bunch of) (?:my |the )?(?:pills|tablets"
        r"|meds|paracetamol)",
        negatable=False,
    ),
    _p(
        r"(?:drive|driving|drove|crash|crashing|steer|steering) (?:my car |the car |off )?"
        r"(?:into|off|in front of) (?:a|the) (?:wall|tree|bridge|cliff|lorry|truck|river|lake"
        r"|train|oncoming traffic)"
        r"|(?:step|stepping|jump|jumping|walk|walking|throw myself|throwing myself) (?:out )?"
        r"in front of (?:a|the) (?:train|bus|car|lorry|truck|traffic)"
        r"|(?:jump|jumping) (?:off|from) (?:a|the|my) (?:bridge|building|roof|cliff|balcony"
        r"|tower|car park)"
    ),
    # Self-harm, recently or again.
    _p(
        r"(?:cut|self harmed|harmed myself|hurt myself|burned myself) (?:again|today|tonight"
        r"|last night|yesterday|this morning|earlier|just now|an hour ago)"
        r"|cut (?:deeper|too deep|deep|really deep|badly|so bad)"
        r"|(?:cutting|self harming|harming myself|hurting myself|burning myself)"
        r" (?:again|every (?:night|day)|daily|most (?:nights|days)|more and more)",
    ),
    # Asking, when the asking is a disclosure: "is it normal to want to kill yourself?"
    _p(
        r"(?:is it|its) normal to (?:want to (?:die|kill (?:myself|yourself)|end (?:it|my life"
        r"|your life))|feel suicidal|be suicidal|have suicidal thoughts|think about (?:suicide"
        r"|killing (?:myself|yourself)|dying))"
        r"|anyone else (?:\w+ ){0,2}(?:want to die|feel suicidal|think about (?:suicide"
        r"|killing themselves|dying))",
        subject=False,
        negatable=False,
    ),
    _p(
        r"(?:google|googling|googled|searching|searched|researching|researched|looking up"
        r"|looked up|look up|reading about) (?:for )?(?:ways|how|methods|the best way"
        r"|painless ways) to (?:die|kill myself|end (?:it|my life)|overdose|od|commit suicide)"
    ),
)


# Every pattern in one alternation, searched once per clause before the patterns one by one.
# It can only say "no pattern matches anywhere in this clause" (then none would have), so it
# decides which clauses get the full check, never what matches: nearly every clause of an
# ordinary post is passed over after one scan instead of one scan per pattern.
_ANY_PATTERN = re.compile("|".join(f"(?:{pattern.regex.pattern})" for pattern in _PATTERNS))


def _clauses(text: str) -> Iterator[str]:
    folded = _APOSTROPHES.sub("", normalise(text))
    for clause in _CLAUSE_BREAK.split(folded):
        words = _NON_WORD.sub(" ", clause).replace("_", " ").split()
        if words:
            cleaned = " ".join(words)
            # "kill my self", "self-harm" / "selfharm" are written every which way.
            cleaned = cleaned.replace("my self", "myself").replace("selfharm", "self harm")
            yield cleaned


# Words that close one thought in run-on chat, where no punctuation does: "cant do this
# anymore gonna end it", "living no more, gonna...", "im fine lol gonna kms". A walk back
# for the subject or a negation stops at them, as it would at a full stop.
_THOUGHT_ENDS = frozenset({"anymore", "lol", "lmao", "lmfao", "tbh", "ngl", "idk", "fr", "smh"})
_MORE_ENDS = frozenset({"no", "any"})  # "no more", "any more" (not "no longer": a denial)


def _this_thought(words: list[str]) -> list[str]:
    """The words after the last that closes a thought (see _THOUGHT_ENDS)."""
    for at in range(len(words) - 1, -1, -1):
        word = words[at]
        if word in _THOUGHT_ENDS or (word == "more" and at and words[at - 1] in _MORE_ENDS):
            return words[at + 1 :]
    return words


def _first_person_before(words: list[str]) -> bool:
    # Walk back to the nearest word that says who this is about. Other words (adverbs,
    # auxiliaries, typos, slang: "i rly want to die") are passed over, because a missed
    # crisis costs more than an unneeded helpline message.
    for word in reversed(_this_thought(words[-8:])):
        if word in _FIRST_PERSON:
            return True
        if word in _OTHER_SUBJECT or word.isdigit():
            return False
    # Back at the start of the clause or the thought: a dropped subject ("want to die tbh").
    return True


def _negated(words: list[str], at_clause_start: bool) -> bool:
    before = _this_thought(words[-3:])
    if at_clause_start and len(words) <= 3 and words[:1] == ["no"] and words[1:2] != ["longer"]:
        # "No, I want to die": an answer, not a negation.
        before = before[1:] if len(words) == len(before) else before
    # A negation with a new subject straight after it denied something before: "im fine,
    # im not, im gonna kms", "no im gonna" (but "dont think i want to die" stays denied).
    if any(
        word in _NEGATIONS and following in _FIRST_PERSON
        for word, following in itertools.pairwise(before)
    ):
        return False
    return bool(_NEGATIONS.intersection(before)) or " ".join(before).endswith("no longer")


# How far back (in characters) a match looks for its subject, a negation or reported speech.
# Bounded so a 20,000-character clause with many rejected matches stays linear.
_LOOK_BACK = 300


def _match(clause: str, set_aside: set[str] | None = None) -> CrisisMatch | None:
    """The first pattern in `clause` that reads as a crisis. Phrases that match a pattern
    but are set aside (about someone else, denied, in the past, reported) are added to
    `set_aside` by why, if given."""
    if _ANY_PATTERN.search(clause) is None:
        return None
    if _DISTANT_PAST.search(clause):
        if set_aside is not None:
            set_aside.add("past")
        return None
    for pattern in _PATTERNS:
        if pattern.unless_in_clause is not None and pattern.unless_in_clause.search(clause):
            continue
        for match in pattern.regex.finditer(clause):
            window_start = max(0, match.start() - _LOOK_BACK)
            window = clause[window_start : match.start()]
            # A window cut mid-word starts with a fragment; it's only a filler to walk past.
            before = window.split()
            why = None
            if pattern.subject and not _first_person_before(before):
                why = "someone else"
            elif pattern.negatable and _negated(before, at_clause_start=window_start == 0):
                why = "denied"
            elif pattern.unless_after is not None and pattern.unless_after.match(
                clause, match.end()
            ):
                why = "figure of speech"
            elif _REPORTED.search(window):
                why = "reported"
            if why is None:
                return CrisisMatch(match.group())
            if set_aside is not None:
                set_aside.add(why)
    return None


# Wanting to live, said plainly: the model weighs "want to" and "live" the way it learned
# them from "I don't want to live", so a clause that says the opposite sets the text aside.
_AFFIRMS_LIFE = re.compile(
    r"\b(?:i|id|i would|i really|i just|i still|i do|i truly) (?:want|wanna|love|hope) to"
    r" (?:live|stay alive|keep living|grow old|see my \w+ grow up)\b"
)


def set_aside_by_rules(text: str) -> set[str]:
    """Why the rules set aside crisis phrases in `text` that they didn't count: "denied"
    ("I would never kill myself"), "someone else", "past", "reported", "figure of speech",
    or "wants to live" ("I want to live a long and happy life"). Empty when the text has no
    such phrase, or when the rules count one."""
    set_aside: set[str] = set()
    for clause in _clauses(text):
        if _match(clause, set_aside) is not None:
            return set()
        if _AFFIRMS_LIFE.search(clause):
            set_aside.add("wants to live")
    return set_aside


# A bare "Goodbye." is only worrying alongside words that sound like a last message.
_FAREWELL = re.compile(r"(?:goodbye|bye|farewell)(?: (?:everyone|all|forever|world|guys))?")
_FAREWELL_CONTEXT = re.compile(
    r"\b(?:(?:im )?sorry (?:everyone|to everyone|for everything|all)"
    r"|i love (?:you all|you guys|everyone|all of you)|thank you (?:all )?for everything"
    r"|thanks (?:all )?for everything|(?:please )?forgive me)\b"
)


def find_by_rules(text: str) -> CrisisMatch | None:
    """The first phrase in `text` that the phrase rules read as a first-person crisis."""
    clauses = list(_clauses(text))
    for clause in clauses:
        if (found := _match(clause)) is not None:
            return found
    farewells = [clause for clause in clauses if _FAREWELL.fullmatch(clause)]
    if farewells and not any(_GOODBYE_NOT_FINAL.search(clause) for clause in clauses):
        context = next(
            (match for clause in clauses if (match := _FAREWELL_CONTEXT.search(clause))), None
        )
        if context is not None:
            return CrisisMatch(f"{context.group()} ... {farewells[-1]}")
    return None
