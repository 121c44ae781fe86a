"""Social-media accounts: profile links, "add me on snap", "my ig is jane.doe", "jane#1234",
"u/jane_doe", and asking for someone else's ("what's your snap?").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from moderation.contact.clues import Clues
from moderation.contact.matches import ContactMatch, scan

_PROFILE_HOSTS = (
    r"wa\.me|(?:api|chat|web)\.whatsapp\.com|whatsapp\.com|t\.me|telegram\.(?:me|dog)"
    r"|snapchat\.com|instagram\.com|instagr\.am|discord\.gg|discord(?:app)?\.com"
    r"|m\.me|(?:m\.|web\.|mobile\.)?facebook\.com|fb\.com|fb\.me|messenger\.com|kik\.me"
    r"|signal\.me|signal\.group|(?:vm\.)?tiktok\.com|(?:mobile\.)?twitter\.com|x\.com"
    r"|threads\.net|bsky\.app|linkedin\.com/in|onlyfans\.com|linktr\.ee|skype\.com"
    r"|tumblr\.com|twitch\.tv"
)
_PROFILE_URL = re.compile(
    r"(?<![\w.\-])(?:https?://)?(?:www\.)?(?P<host>" + _PROFILE_HOSTS + r")"
    r"/(?P<path>[\w.@%~+\-]{1,80}+)",
    re.IGNORECASE,
)
# Pages of these sites that aren't a person: "instagram.com/explore", "facebook.com/help".
_GENERIC_PATHS = frozenset(
    {
        "help", "about", "legal", "policies", "policy", "privacy", "terms", "settings", "explore",
        "hashtag", "tag", "tags", "search", "watch", "share", "login", "signup", "download",
        "safety", "community", "guidelines"
    }
)  # fmt: skip

_PLATFORM = (
    r"snap(?:chat)?|insta(?:gram)?|ig|telegram|whats[ \t]?app|discord|kik|signal|tik[ \t]?tok"
    r"|facebook|fb|messenger|twitter|skype|wechat|viber|bluesky|bsky|tumblr|twitch|threads"
    r"|line|session|element|x|wa|tg|sc"
)
# Platforms whose name is rarely anything else, for "snap: jane" and "my ig is jane".
_PLATFORM_NAMED = (
    r"snap(?:chat)?|insta(?:gram)?|ig|telegram|whats[ \t]?app|discord|kik|tik[ \t]?tok"
    r"|facebook|fb|twitter|skype|wechat|viber|bluesky|bsky|tumblr|twitch|sc|steam|reddit|psn"
    r"|xbox|gamertag|roblox|epic|battle\.?net|minecraft|snap[ \t]?id|threema|wire"
)
_HANDLE = r"@?[\w.\-]{2,40}(?:#\d{4})?"
_SOCIAL_PATTERNS = [
    # "add me on snap", "message me on whatsapp", "can I add you on insta?"
    re.compile(
        r"\b(?:add|follow|message|msg|dm|pm|text|find|contact|reach|ping|friend|snap|chat[ \t]with"
        r"|talk[ \t]to)[ \t]{1,3}(?:me|you|u|us)[ \t]{1,3}(?:on|at|via|over|through|thru|in)"
        rf"[ \t]{{1,3}}(?:my[ \t]{{1,3}})?(?:{_PLATFORM})\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:hmu|hit[ \t]me[ \t]up)[ \t]{{1,3}}(?:on|at|via)[ \t]{{1,3}}(?:{_PLATFORM})\b",
        re.IGNORECASE,
    ),
    # Asking for someone's account or number: "what's your snap?", "whats ur number"
    re.compile(
        r"\b(?:what['’]?s|what[ \t]is|wats|whats)[ \t]{1,3}(?:ur|your|yr)[ \t]{1,3}"
        rf"(?:{_PLATFORM_NAMED}|number|num|digits|email|e-mail)\b",
        re.IGNORECASE,
    ),
    # "let's move this to whatsapp", "can we talk on telegram"
    re.compile(
        r"\b(?:let['’]?s|let[ \t]us|can[ \t]we|could[ \t]we|shall[ \t]we|we[ \t]should)"
        r"[ \t]{1,3}(?:talk|chat|move|switch|continue|take|go)(?:[ \t]{1,3}(?:this|it))?"
        r"[ \t]{1,3}(?:on|to|onto|over[ \t]to|over|in|via)[ \t]{1,3}(?:my[ \t]{1,3})?"
        rf"(?:{_PLATFORM})\b",
        re.IGNORECASE,
    ),
    # The platform as a verb: "whatsapp me", "kik me: jane", "signal me on ..."
    re.compile(
        r"\b(?:whats[ \t]?app|snap(?:chat)?|kik|telegram|signal|insta|discord|wa)[ \t]{1,3}me\b",
        re.IGNORECASE,
    ),
    # "dm me @jane", "follow me @jane"
    re.compile(
        r"\b(?:dm|pm|message|msg|follow|add|text|find|contact|hmu)[ \t]{1,3}(?:me|us)"
        r"[ \t]{0,3}(?:at|on)?[ \t]{0,3}[:\-]?[ \t]{0,3}@[\w.]{2,30}",
        re.IGNORECASE,
    ),
    # "I'm @jane on insta"
    re.compile(
        r"@[\w.]{2,30}[ \t]{1,3}(?:on|at)[ \t]{1,3}(?:my[ \t]{1,3})?"
        rf"(?:{_PLATFORM_NAMED})\b",
        re.IGNORECASE,
    ),
    # Discord's old-style tag: "jane#1234"
    re.compile(r"(?<![\w#])[\w.]{2,32}#\d{4}(?!\w)"),
    # Search for me by name: "fb messenger - search Jane Doe Leeds"
    re.compile(
        rf"\b(?:{_PLATFORM_NAMED}|messenger|linkedin)\b[^\n]{{0,20}}?\b(?:search|look[ \t]up|find)"
        r"(?:[ \t]for)?[ \t]{1,3}(?:me[ \t]{1,3}(?:as|by)?[ \t]{0,3})?"
        r"[A-Z][a-z]{1,20}[ \t]{1,3}[A-Z][a-z]{1,20}",
        re.IGNORECASE,
    ),
]
# "snap: jane", "telegram - @jane", "insta @jane", "my ig is jane.doe"
_PLATFORM_HANDLE = re.compile(
    rf"\b(?P<my>my[ \t]{{1,3}})?(?:{_PLATFORM_NAMED})"
    r"(?:[ \t]{1,3}(?:id|name|username|user|handle|tag|account|acc|@))?"
    r"(?P<sep>[ \t]{0,3}[:=][ \t]{0,3}|[ \t]{1,3}-[ \t]{1,3}|[ \t]{1,3}is[ \t]{1,3}"
    r"|[ \t]{0,3}(?:→|->|=>|>|»)[ \t]{0,3}|[ \t]{1,3}(?=@))"
    rf"(?P<handle>{_HANDLE})",
    re.IGNORECASE,
)
# What follows "my insta is" when it isn't a name: "my insta is private now".
_NOT_HANDLES = frozenset(
    {
        "private", "public", "full", "down", "broken", "gone", "deleted", "dead", "blocked",
        "banned", "off", "on", "open", "closed", "locked", "hacked", "empty", "quiet", "busy",
        "boring", "toxic", "awful", "bad", "good", "great", "fine", "ok", "okay", "just", "so",
        "really", "very", "too", "not", "still", "where", "what", "how", "the", "a", "an", "all",
        "only", "mostly", "literally", "honestly", "basically", "actually", "my", "your", "same",
        "different", "mine", "it", "this", "that", "there", "here", "also", "now", "being",
        "getting", "pretty", "kinda", "lowkey", "filled", "mainly", "nothing", "something",
        "everything", "who", "why", "when", "because", "like", "probably", "inactive", "abandoned",
        "old", "new", "fake"
    }
)  # fmt: skip


# Who someone is on a named platform, the name before or after it: "I go by mossyrock on
# discord", "I'm jamie_b on snapchat", "on twitter I'm @sam_walks". A plain word counts
# after "go by" / "known as" / "search"; after "I'm" only a name shaped like a handle (a
# digit, "_", "." or "@"), so "I'm active on discord" stays a remark.
_NAME_ON_PLATFORM = re.compile(
    r"\b(?P<intro>i[ \t]?['’]?m|i[ \t]am|(?:i[ \t]{1,3})?go[ \t]by|known[ \t]as|find[ \t]me[ \t]as"
    r"|search(?:[ \t]for)?|look[ \t](?:for|up))[ \t]{1,3}(?P<handle>@?[\w.\-]{2,40}+)"
    rf"[ \t]{{1,3}}(?:on|at)[ \t]{{1,3}}(?:{_PLATFORM_NAMED})\b"
    rf"|\b(?:on|at)[ \t]{{1,3}}(?:{_PLATFORM_NAMED})(?:/x)?\b[ \t]{{0,3}},?[ \t]{{0,3}}"
    r"(?:i[ \t]?['’]?m|i[ \t]am|as|it['’]?s)[ \t]{1,3}(?P<at_handle>@[\w.]{2,30}+)",
    re.IGNORECASE,
)


def _is_name_on_platform(match: re.Match[str]) -> bool:
    if match.group("at_handle") is not None:
        return True
    handle = match.group("handle")
    bare = handle.lstrip("@").casefold()
    if not any(ch.isalpha() for ch in bare) or bare in _NOT_HANDLES:
        return False
    if handle.startswith("@") or any(ch in bare for ch in "_.0123456789"):
        return True
    # A plain word is a name only when it was introduced as one ("go by", "known as").
    return not match.group("intro").casefold().replace("’", "'").startswith(("i", "im"))


def _is_profile_url(match: re.Match[str]) -> bool:
    first = match.group("path").split("/")[0].casefold().lstrip("@")
    return first not in _GENERIC_PATHS


def _is_platform_handle(match: re.Match[str]) -> bool:
    handle = match.group("handle")
    sep = match.group("sep").strip()
    bare = handle.lstrip("@").rstrip(".-").casefold()
    if not any(ch.isalpha() for ch in bare):
        return False
    # "@jane", "jane_doe", "jane#1234", "jane99" are clearly names; a plain word counts only
    # after "snap:" or "my snap is", and not when it's "my insta is private".
    looks_like_handle = (
        handle.startswith("@")
        or any(ch in handle for ch in "_#")
        or any(ch.isdigit() for ch in handle)
    )
    introduced = sep in (":", "=", "-", "→", "->", "=>", ">", "»") or (
        sep == "is" and match.group("my") is not None
    )
    return looks_like_handle or (introduced and bare not in _NOT_HANDLES)


def find_social(text: str, clues: Clues) -> Iterator[ContactMatch]:
    if not clues.has_char("@#/") and not clues.has_word(_SOCIAL_WORDS):
        return  # every pattern here needs one of these
    if clues.has_char("/") and clues.has_text(*_PROFILE_HOST_NAMES):
        for match in scan(_PROFILE_URL, text, _is_profile_url):
            yield ContactMatch("social", match.span())
    for pattern, possible in zip(_SOCIAL_PATTERNS, _SOCIAL_GATES, strict=True):
        if possible(clues):
            for match in pattern.finditer(text):
                yield ContactMatch("social", match.span())
    if clues.has_word(_NAMED):
        for match in scan(_PLATFORM_HANDLE, text, _is_platform_handle):
            yield ContactMatch("social", match.span())
        for match in scan(_NAME_ON_PLATFORM, text, _is_name_on_platform):
            yield ContactMatch("social", match.span())


# The words and text each pattern above must find, as whole casefolded words (a name said in
# two words, "whats app", "tik tok", "battle.net", offers its first).
_PROFILE_HOST_NAMES = (
    "wa.me", "whatsapp.com", "t.me", "telegram.me", "telegram.dog", "snapchat.com",
    "instagram.com", "instagr.am", "discord.gg", "discord.com", "discordapp.com", "m.me",
    "facebook.com", "fb.com", "fb.me", "messenger.com", "kik.me", "signal.me", "signal.group",
    "tiktok.com", "twitter.com", "x.com", "threads.net", "bsky.app", "linkedin.com/in",
    "onlyfans.com", "linktr.ee", "skype.com", "tumblr.com", "twitch.tv",
)  # fmt: skip
_PLATFORMS = frozenset(
    {
        "snap", "snapchat", "insta", "instagram", "ig", "telegram", "whats", "whatsapp",
        "discord", "kik", "signal", "tik", "tiktok", "facebook", "fb", "messenger", "twitter",
        "skype", "wechat", "viber", "bluesky", "bsky", "tumblr", "twitch", "threads", "line",
        "session", "element", "x", "wa", "tg", "sc",
    }
)  # fmt: skip
_NAMED = frozenset(
    {
        "snap", "snapchat", "insta", "instagram", "ig", "telegram", "whats", "whatsapp",
        "discord", "kik", "tik", "tiktok", "facebook", "fb", "twitter", "skype", "wechat",
        "viber", "bluesky", "bsky", "tumblr", "twitch", "sc", "steam", "reddit", "psn", "xbox",
        "gamertag", "roblox", "epic", "battle", "battlenet", "minecraft", "snapid", "threema",
        "wire",
    }
)  # fmt: skip
_ADD_ME = frozenset(
    {
        "add", "follow", "message", "msg", "dm", "pm", "text", "find", "contact", "reach", "ping",
        "friend", "snap", "chat", "talk",
    }
)  # fmt: skip
_ME_YOU = frozenset({"me", "you", "u", "us"})
# "chat with me", "talk to you": the add-me words said in two.
_CHAT = frozenset({"chat", "talk"})
_WITH = frozenset({"with", "to"})
_HIT_ME_UP = frozenset({"hmu", "hit"})
_WHATS = frozenset({"what", "whats", "wats"})
_YOUR = frozenset({"ur", "your", "yr"})
_YOUR_WHAT = _NAMED | {"number", "num", "digits", "email", "mail"}
_LETS = frozenset({"let", "lets", "we"})
_MOVE = frozenset({"talk", "chat", "move", "switch", "continue", "take", "go"})
_AS_VERB = frozenset(
    {"whats", "whatsapp", "snap", "snapchat", "kik", "telegram", "signal", "insta", "discord", "wa"}
)
_ME = frozenset({"me"})
_DM_ME = frozenset(
    {"dm", "pm", "message", "msg", "follow", "add", "text", "find", "contact", "hmu"}
)
_TAG_HINT = re.compile(r"#\d{4}", re.IGNORECASE)  # (so Clues.lowered reuses it)
_NAMED_OR_LISTED = _NAMED | {"messenger", "linkedin"}
_SEARCH = frozenset({"search", "look", "find"})
_SOCIAL_WORDS = _PLATFORMS | _NAMED_OR_LISTED | _YOUR_WHAT | _AS_VERB
_SOCIAL_GATES: list[Callable[[Clues], bool]] = [
    lambda c: (
        c.has_word(_ME_YOU)
        and c.has_word(_PLATFORMS)
        and (c.has_pair(_ADD_ME, _ME_YOU) or c.has_pair(_CHAT, _WITH))
    ),
    lambda c: c.has_word(_HIT_ME_UP) and c.has_word(_PLATFORMS),
    lambda c: c.has_word(_WHATS) and c.has_word(_YOUR) and c.has_word(_YOUR_WHAT),
    lambda c: c.has_word(_LETS) and c.has_word(_MOVE) and c.has_word(_PLATFORMS),
    lambda c: c.has_word(_AS_VERB) and c.has_word(_ME),
    lambda c: c.has_char("@") and c.has_word(_DM_ME),  # ("me" may run into "at": "meat@")
    lambda c: c.has_char("@") and c.has_word(_NAMED),
    lambda c: c.found(_TAG_HINT),
    lambda c: c.has_word(_NAMED_OR_LISTED) and c.has_word(_SEARCH),
]


# A Reddit user (not a subreddit, r/..., which is a public place): "u/jane_doe". Apart from
# the other patterns because it is the one whose case matters ("U/" isn't a user).
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/[\w\-]{3,20}+(?![\w/])")


def find_reddit_users(text: str, clues: Clues) -> Iterator[ContactMatch]:
    if clues.has_text("u/"):
        for match in _REDDIT_USER.finditer(text):
            yield ContactMatch("social", match.span())
