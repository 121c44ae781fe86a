"""Contact details as Spanish speakers write them: Spanish and Latin American phone numbers
(in digits, in look-alike letters, in words: "seis uno dos, treinta y cuatro..."), e-mail
addresses said with "arroba" and "punto" or only implied ("mi gmail es mi nick de aquí"),
accounts given with a Spanish cue ("búscame en insta como luna_azul"), and street addresses
in Spanish, Mexican and South American shapes ("C/ Mayor 12, 3º B", "Av. Insurgentes Sur
1234, Col. Del Valle", "calle 45 # 12-30").

The English finders know British, American and Indian numbers and words; these rules add
what a Spanish text holds. They run on a text that reads as Spanish (moderation.language)
or that has no English word at all ("6l7 2O 4S 9O", "C/ Sant Pere 21, 4t 2a"), so an English
post costs one cheap check and can't be flagged by them. What must stay postable here as in
English: doses, prices, dates, times, counts, rooms and bus lines, Bible verses and laws,
@-mentions of members, and the public helplines (helplines.py lists the Spanish-speaking
countries' lines: 024, 717 003 717, Línea de la Vida 800 911 2000, *4141...).

Regular-expression safety: every repeat is bounded or possessive and no two adjacent parts
can match the same characters in more than one way, so each search is linear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice

import phonenumbers

from moderation.contact.clues import Clues
from moderation.contact.helplines import is_helpline
from moderation.contact.matches import ContactMatch
from moderation.contact.phones import mask_dates
from moderation.language import looks_spanish, word_counts

__all__ = ["find_spanish_contact", "reads_as_spanish"]

_WORD_SPLIT = str.maketrans({ch: " " for ch in ',.;:!?¿¡()"…'})


# A text this short with no English word ("6l7 2O 4S 9O", "C/ Sant Pere 21, 4t 2a") is read
# by the Spanish rules too.
_SHORT = 120


def reads_as_spanish(text: str) -> bool:
    """Whether the Spanish rules read `text`: it looks Spanish, or it is short and has no
    English word."""
    if len(text) < _SHORT and word_counts(text)[1] == 0:
        return True
    return looks_spanish(text)


def find_spanish_contact(text: str, clues: Clues) -> Iterator[ContactMatch]:
    """Every Spanish-shaped phone number, e-mail address, account or street address in
    `text` (a contact finder: see moderation.contact.FINDERS)."""
    if not reads_as_spanish(text):
        return
    # Each kind runs only when a word it needs is in the text (one split, set look-ups):
    # most Spanish messages hold no digits, no platform and no street.
    words = frozenset(text.casefold().translate(_WORD_SPLIT).split())
    if clues.has_digit:
        yield from _phones(text, clues, words)
        if words & _STREET_WORDS or "º" in text or "°" in text or "c/" in text.casefold():
            yield from _addresses(text)
    if len(words & _NUMBER_WORDS) >= 2:
        yield from _spoken_phones(text)
    yield from _emails(text)
    if words & _PLATFORM_WORDS:
        yield from _handles(text)


# --------------------------------------------------------------------------- phones

# The countries whose plans a number is checked against (Spain and Latin America, and the
# US for Spanish speakers there).
_REGIONS = ("ES", "MX", "AR", "CO", "CL", "PE", "VE", "UY", "EC", "BO", "PY", "CR", "GT",
            "DO", "PR", "US")  # fmt: skip
# Look-alike letters for digits, inside a word that also holds a digit: "6OO 98l 7S4".
_LOOKALIKE = str.maketrans("OoIlSsBZzEeAa", "0011558223344")
_LOOKALIKE_BESIDE_DIGIT = re.compile(r"\d[OoIlSsBZzEeAa]|[OoIlSsBZzEeAa]\d")
_MIXED_WORD = re.compile(r"(?<![^\W\d_])[0-9OoIlSsBZzEeAa]{2,6}+(?![^\W\d_])")
# Runs of digit groups with the separators people type between them. "," is not one
# ("marqué 3, 4, 4, 6 y 7"), nor ":" (times, verses).
_DIGITS = re.compile(r"(?<![\w.,/\-])(?:\+ ?)?\(?\d{1,5}+\)?(?:[ .\-/]{1,3}+\(?\d{1,5}+\)?){0,8}+")
_UNIT_AFTER = re.compile(
    r" ?(?:mg|ml|g|kg|km|h|hs|horas|dias|días|min|minutos|€|eur|euros|pesos|dolares|dólares"
    r"|usd|mxn|ui|%|puntos|kilos|creditos|créditos|años|meses|semanas|veces)\b",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"(?:[$€£]|mxn|usd|eur|ars|clp|cop) ?$", re.IGNORECASE)
_PHONE_CUE = re.compile(
    r"\b(?:n[uú]mero|numero|cel|celu|celular|m[oó]vil|movil|tel|tel[eé]fono|fijo|whats|wasap"
    r"|guasap|wsp|wpp|whatsapp|telegram|signal|ll[aá]m(?:a|e)me|escr[ií]b(?:e|i)me|m[aá]ndame"
    r"|marca(?:me)?|lada|prefijo|c[oó]digo|caracter[ií]stica|empieza|termina|sigue|despu[eé]s"
    r"|luego|primeros|[uú]ltimos|final|resto|falta|partes)\b",
    re.IGNORECASE,
)
_YEARS = re.compile(r"(?:19|20)\d\d")
_MOST_CANDIDATES = 200


@lru_cache(maxsize=4096)
def _valid_number(digits: str) -> bool:
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    for region in (None,) if digits.startswith("+") else _REGIONS:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _plausible(text: str, start: int, end: int, raw: str) -> bool:
    groups = re.findall(r"\d+", raw)
    digits = "".join(groups)
    if not 8 <= len(digits) <= 13:
        return False
    if len(groups) == 2 and all(_YEARS.fullmatch(group) for group in groups):
        return False  # "2019-2021"
    if digits.startswith(("978", "979")) and len(digits) == 13:
        return False  # an ISBN
    if is_helpline(digits) or is_helpline(digits.lstrip("0")):
        return False
    if _UNIT_AFTER.match(text, end) or _MONEY_BEFORE.search(text, max(0, start - 5), start):
        return False
    thousands = len(groups) > 1 and all(len(group) == 3 for group in groups[1:])
    if thousands and "." in raw and len(groups[0]) <= 3 and " " not in raw:
        return False  # "1.250.000"
    number = ("+" if raw.lstrip("(").startswith("+") else "") + digits
    if not _valid_number(number):
        return False
    cue = _PHONE_CUE.search(text, max(0, start - 40), min(len(text), end + 40))
    return len(digits) >= 9 or cue is not None


def _phones(text: str, clues: Clues, words: frozenset[str]) -> Iterator[ContactMatch]:
    # Look-alike letters read as digits where a word mixes the two; the same length, so the
    # spans stay the member's.
    read = text if text.isascii() or not _OTHER_DIGIT.search(text) else _same_length(text)
    if _LOOKALIKE_BESIDE_DIGIT.search(read):
        read = _MIXED_WORD.sub(_read_lookalikes, read)
    read = mask_dates(read, Clues(read))
    # Each candidate may cost a phone-plan look-up per country: a text of thousands of
    # number-like runs is read as far as its first _MOST_CANDIDATES (it is held if they
    # hold a number), so the cost stays linear with a small constant.
    for match in islice(_DIGITS.finditer(read), _MOST_CANDIDATES):
        if _plausible(read, match.start(), match.end(), match.group()):
            yield ContactMatch("phone", match.span())
    if words & _SPLIT_WORDS:
        yield from _split_phones(read)


def _read_lookalikes(match: re.Match[str]) -> str:
    word = match.group()
    return word.translate(_LOOKALIKE) if any(ch.isdigit() for ch in word) else word


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def _same_length(text: str) -> str:
    # Other scripts' digits as ASCII ones, one character for one.
    return "".join(str(int(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


# A number given in pieces: "empieza por 612... el final es 78", "los primeros son 655 00,
# después 11 22". Pieces of digits with at most a few words between them, joined when the
# words say they are one number.
_PIECE = re.compile(r"\d[\d .\-/]{0,14}+")
_SPLIT_CUE = re.compile(
    r"\b(?:empieza|arranca|comienza|sigue|luego|despu[eé]s|termina|cierra|final|resto|falta"
    r"|primeros|[uú]ltimos|partes|lada|prefijo|c[oó]digo|caracter[ií]stica|y)\b",
    re.IGNORECASE,
)


_ONLY_PUNCTUATION = re.compile(r"[\s,;:.\-/]{1,4}")
_SPLIT_WORDS = frozenset(
    {
        "empieza", "arranca", "comienza", "sigue", "luego", "después", "despues", "termina",
        "cierra", "final", "resto", "falta", "primeros", "últimos", "ultimos", "partes", "lada",
        "prefijo", "código", "codigo", "característica", "caracteristica",
    }
)  # fmt: skip


def _split_phones(text: str) -> Iterator[ContactMatch]:
    pieces = [(m.start(), m.end(), re.sub(r"\D", "", m.group())) for m in _PIECE.finditer(text)]
    for i in range(len(pieces)):
        joined, end = pieces[i][2], pieces[i][1]
        if text[max(0, pieces[i][0] - 2) : pieces[i][0]].strip().endswith("+"):
            joined = "+" + joined  # "+34 y luego 612..."
        for j in range(i + 1, min(len(pieces), i + 5)):
            gap = text[end : pieces[j][0]]
            said = _SPLIT_CUE.search(gap) is not None or _ONLY_PUNCTUATION.fullmatch(gap)
            if len(gap) > 40 or not said:
                break
            joined += pieces[j][2]
            end = pieces[j][1]
            if 9 <= len(joined) <= 13 and not is_helpline(joined) and _valid_number(joined):
                yield ContactMatch("phone", (pieces[i][0], end))
                return


# Numbers said in words.
_UNITS = {
    "cero": 0, "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
}  # fmt: skip
_TEENS = {
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19,
    "veinte": 20, "veintiuno": 21, "veintiún": 21, "veintidos": 22, "veintidós": 22,
    "veintitres": 23, "veintitrés": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintiséis": 26, "veintisiete": 27, "veintiocho": 28,
    "veintinueve": 29,
}  # fmt: skip
_TENS = {
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
    "ochenta": 80, "noventa": 90,
}  # fmt: skip
_HUNDREDS = {
    "cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300, "cuatrocientos": 400,
    "quinientos": 500, "seiscientos": 600, "setecientos": 700, "ochocientos": 800,
    "novecientos": 900,
}  # fmt: skip
_NUMBER_WORDS = frozenset({*_UNITS, *_TEENS, *_TENS, *_HUNDREDS})
_TOKEN = re.compile(r"[^\W_]+|[,.;:!?()\-/]")
# Digits, and look-alike letters beside them ("l4", "2o"), in a casefolded token.
_SPOKEN_LOOKALIKE = re.compile(r"[0-9oilsbzea]+")
_ANY_DIGIT = re.compile(r"\d")


def _spoken_phones(text: str) -> Iterator[ContactMatch]:
    folded = text.casefold()
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(folded)]
    words = sum(1 for *_, token in tokens if token in _NUMBER_WORDS)
    if words < 3:
        return
    i = 0
    while i < len(tokens):
        digits, start, end, spoken, i = _read_number(tokens, i)
        if len(digits) >= 8 and spoken >= 3:
            cue = _PHONE_CUE.search(text, max(0, start - 40), min(len(text), end + 40))
            if not is_helpline(digits) and (
                _valid_number(digits) or (len(digits) >= 9 and cue is not None)
            ):
                yield ContactMatch("phone", (start, end))
        if not digits:
            i += 1


def _read_number(tokens: list[tuple[int, int, str]], i: int) -> tuple[str, int, int, int, int]:
    """Digits said from token i on ("seis uno dos, treinta y cuatro" -> "61234"), with the
    span, how many number words, and the index after."""
    digits, spoken = "", 0
    start = end = tokens[i][0] if i < len(tokens) else 0
    while i < len(tokens):
        token = tokens[i][2]
        value: int | None = None
        width = 1
        if token in _HUNDREDS:
            value = _HUNDREDS[token]
            rest, width = _tail(tokens, i + 1)
            value += rest
            width += 1
        elif token in _TENS:
            value = _TENS[token]
            if i + 2 < len(tokens) and tokens[i + 1][2] == "y" and tokens[i + 2][2] in _UNITS:
                value += _UNITS[tokens[i + 2][2]]
                width = 3
        elif token in _TEENS or token in _UNITS:
            value = _TEENS.get(token, _UNITS.get(token))
        elif len(token) <= 4 and _SPOKEN_LOOKALIKE.fullmatch(token) and _ANY_DIGIT.search(token):
            digits += token.translate(_LOOKALIKE)
            end = tokens[i][1]
            i += 1
            continue
        elif token in (",", ".", "-", "/") and digits:
            i += 1
            continue
        else:
            break
        if not digits:
            start = tokens[i][0]
        digits += str(value)
        spoken += 1
        end = tokens[i + width - 1][1]
        i += width
    return digits, start, end, spoken, i


def _tail(tokens: list[tuple[int, int, str]], i: int) -> tuple[int, int]:
    """The tens and units after a hundred ("seiscientos noventa y nueve"): value, tokens."""
    if i >= len(tokens):
        return 0, 0
    token = tokens[i][2]
    if token in _TENS:
        if i + 2 < len(tokens) and tokens[i + 1][2] == "y" and tokens[i + 2][2] in _UNITS:
            return _TENS[token] + _UNITS[tokens[i + 2][2]], 3
        return _TENS[token], 1
    if token in _TEENS:
        return _TEENS[token], 1
    if token in _UNITS and token not in ("un", "una"):
        return _UNITS[token], 1
    return 0, 0


# --------------------------------------------------------------------------- e-mail

_PROVIDERS = (
    r"(?:g ?mail|ge ?mail|hotmail|jotmail|outlook|yahoo|proton(?:mail)?|icloud|live|msn"
    r"|yandex|aol|zoho|tutanota)"
)
_SPELLED_EMAIL = re.compile(
    r"(?<![\w.])[\w.\-]{2,40}+ ?[,(\[]? ?(?:arroba|@) ?[)\],]? ?[\w ]{2,20}? ?[,(\[]? ?"
    r"(?:punto|\.) ?[)\]]? ?(?:com|es|net|org|mx|ar|co|cl|pe|uy|ve|ec|edu|gob)\b",
    re.IGNORECASE,
)
_AT_PROVIDER = re.compile(
    rf"\barroba\W{{0,3}}{_PROVIDERS}\b|\b{_PROVIDERS} \W?punto ?\W?"
    r"(?:com|es|net|org|mx|ar|co|cl)\b",
    re.IGNORECASE,
)
_MAIL_WORD = re.compile(rf"\b(?:{_PROVIDERS}|correo|mail|e-?mail|imeil|emilio)\b", re.IGNORECASE)
# The rest left to the reader: the same name as here, "todo junto", "ya sabes el resto".
_SAME_NAME = re.compile(
    r"\b(?:(?:mismo|igual que (?:mi|el)|el de mi|como mi|es mi) (?:nick|nombre|usuario|user"
    r"|apodo|alias)|(?:nick|nombre|usuario|user) de (?:aqu[ií]|ac[aá]|kindred|este foro|el foro)"
    r"|todo junto|sin espacios|ya sabes el resto|ya sab[eé]s el resto|te imaginas el resto"
    r"|adivina el resto|lo dem[aá]s ya lo sabes|el de google)\b",
    re.IGNORECASE,
)


def _emails(text: str) -> Iterator[ContactMatch]:
    folded = text.casefold()
    if "arroba" in folded or "@" in folded or "punto" in folded:
        for match in _SPELLED_EMAIL.finditer(text):
            said = match.group().casefold()
            if "arroba" in said or "punto" in said:  # (a plain address is emails.py's)
                yield ContactMatch("email", match.span())
        for match in _AT_PROVIDER.finditer(text):
            yield ContactMatch("email", match.span())
    if (mail := _MAIL_WORD.search(text)) is not None and _SAME_NAME.search(text):
        yield ContactMatch("email", mail.span())


# --------------------------------------------------------------------------- accounts

_PLATFORMS = (
    r"(?:insta|instagram|ig|tiktok|tik tok|telegram|tele|snap|snapchat|discord|face|facebook"
    r"|fb|twitter|twitch|threads|bluesky|kik|signal|whats|whatsapp|wasap|guasap|wsp|youtube"
    r"|reddit|tumblr|onlyfans|line|skype|x)"
)
_HANDLE = r"(?:@[\w.]{3,30}+|[a-z0-9]{2,20}+(?:[._][a-z0-9]{1,20}+){1,4}+|[a-z]{3,20}+\d{2,6}+)"
_CUE = (
    r"(?:b[uú]scame|buscame|agr[eé]game|agregame|s[ií]gueme|sigueme|encu[eé]ntrame|me"
    r" encontr[aá]s|me encuentras|m[aá]ndame|escr[ií]beme|escribime|h[aá]blame|hablame|dm|md"
    r"|soy|estoy|me llamo|aparezco|salgo|mi (?:usuario|user|nick|@|arroba|cuenta|perfil|ig"
    r"|insta|tiktok|snap|discord|telegram|face|twitter))"
)
_PLATFORM = re.compile(rf"\b{_PLATFORMS}\b", re.IGNORECASE)
_CUE_WORDS = re.compile(rf"\b{_CUE}\b", re.IGNORECASE)
_HANDLE_AFTER = re.compile(rf"(?<![\w.@]){_HANDLE}(?![\w@])", re.IGNORECASE)
_AT_HANDLE = re.compile(r"(?<![\w.])@[\w.]{3,30}+")
# "en face me encuentras como Mai Faro Azul": a name, capitalised, after a platform.
_NAME_AFTER = re.compile(
    r"\b(?:me encuentras|me encontr[aá]s|b[uú]scame|buscame|aparezco|salgo|estoy) como"
    r" (?:[A-ZÁÉÍÓÚÑ][\w]+ ?){2,4}"
)
_SAME_NAME_AFTER = re.compile(
    r"(?:mismo|igual que) (?:nick|nombre|usuario|user|apodo)", re.IGNORECASE
)
_PLATFORM_NAMED = re.compile(r"\b(?:en|por|de|mi)\W{1,2}$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;!?\n](?=\s|$)")
_WINDOW = 60


def _handles(text: str) -> Iterator[ContactMatch]:
    """Accounts, read around each platform named: "búscame en insta como luna_azul_93", "en
    snap soy pablito.lluvia", "mi usuario de discord es nubegris_4821", "mándame mensaje en
    X, @elotro_martin88". A small window around each name, so the cost stays linear."""
    for platform in islice(_PLATFORM.finditer(text), _MOST_CANDIDATES):
        start, end = platform.span()
        before = text[max(0, start - _WINDOW) : start]
        after = text[end : end + _WINDOW]
        if (stop := _SENTENCE_END.search(after)) is not None:
            after = after[: stop.start()]
        if (cut := list(_SENTENCE_END.finditer(before))) != []:
            before = before[cut[-1].end() :]
        handle = _HANDLE_AFTER.search(after)
        cued = _CUE_WORDS.search(before) or _CUE_WORDS.search(after)
        if handle is not None and cued is not None and not handle.group().isdigit():
            yield ContactMatch("social", (start, end + handle.end()))
        elif (named := _NAME_AFTER.search(after)) is not None:
            yield ContactMatch("social", (start, end + named.end()))
        elif (same := _SAME_NAME_AFTER.search(after)) is not None:
            yield ContactMatch("social", (start, end + same.end()))
        elif _PLATFORM_NAMED.search(before) and "@" in text:
            near = text[max(0, start - 40) : end + 40]
            if (at := _AT_HANDLE.search(near)) is not None:
                offset = max(0, start - 40)
                yield ContactMatch("social", (offset + at.start(), offset + at.end()))


# --------------------------------------------------------------------------- addresses

# The words a street address here starts with (split at punctuation: "c/" gives "c/",
# "Av." gives "av").
_STREET_WORDS = frozenset(
    {
        "c/", "calle", "avda", "av", "avenida", "pza", "plaza", "paseo", "pº", "p°", "camino",
        "carrera", "cra", "kr", "cl", "calzada", "calz", "blvd", "bulevar", "boulevard", "priv",
        "andador", "pasaje", "pje", "rua", "rúa", "carrer", "ronda", "transversal", "tv",
        "diagonal", "dg", "callejon", "callejón", "cerrada", "circuito", "prolongacion",
        "prolongación", "travesia", "travesía", "glorieta", "rambla", "c", "cp", "p", "piso",
        "depto", "dpto", "apto",
    }
)  # fmt: skip
_PLATFORM_WORDS = frozenset(
    {
        "insta", "instagram", "ig", "tiktok", "tik", "telegram", "tele", "snap", "snapchat",
        "discord", "face", "facebook", "fb", "twitter", "twitch", "threads", "bluesky", "kik",
        "signal", "whats", "whatsapp", "wasap", "guasap", "wsp", "youtube", "reddit", "tumblr",
        "onlyfans", "line", "skype", "x",
    }
)  # fmt: skip
# Street types, as written out and abbreviated.
_STREET = (
    r"(?:c/|calle|avda\.?|av\.|avenida|pza\.?|plaza|paseo|p[º°]|camino|carrera|cra\.?|kr\.?"
    r"|cl\.|calzada|calz\.|blvd\.?|bulevar|boulevard|priv\.|andador|pasaje|pje\.?|r[úu]a"
    r"|carrer|ronda|transversal|tv\.|diagonal|dg\.|callej[oó]n|cerrada|circuito"
    r"|prolongaci[oó]n|traves[ií]a|glorieta|rambla)"
)
_ABBREVIATED = re.compile(r"^(?:c/|avda|av\.|pza|cra|kr|cl\.|calz|blvd|priv|pje|tv\.|dg\.)",
                          re.IGNORECASE)  # fmt: skip
# Street type, up to five words of name, then a number: "Calle del Olmo 7".
_STREET_NUMBER = re.compile(
    rf"(?<![\w/]){_STREET} ?(?:[\w'’]+\.? ){{0,5}}?(?:#|n[º°o]\.?|no\.)? ?\d{{1,5}}+[a-z]?\b",
    re.IGNORECASE,
)
# What follows a street number in an address: a floor and door, a flat, a neighbourhood, a
# postcode, a city.
_UNIT_AFTER = re.compile(
    r"[ ,]{0,3}(?:\d{1,2} ?[º°ª]|\d{1,2}[ºª°]? ?(?:izq|dcha|der)|piso|planta|depto|dpto"
    r"|departamento|apto|apartamento|pta\.?|puerta|portal|bajo|entlo|entresuelo|int\.?"
    r"|interior|col\.|colonia|fracc\.?|fraccionamiento|c\.? ?p\.?|\d{5}\b|esc\.|escalera"
    r"|edificio|edif\.|torre|mz\.?|manzana|lote|casa \d|local|\d{1,2}[tº] ?\d{1,2}[aª]"
    r"|[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+)",
)
_LIVING_BEFORE = re.compile(
    r"(?:vivo|estoy|ven[ií]|pasate|p[aá]sate|te espero|mi casa (?:est[aá]|es)|m[aá]ndal[oa]"
    r"|m[aá]ndamel[oa]|env[ií]al[oa]|direcci[oó]n|domicilio|mi piso es|mi depto es) (?:en|a|es)?"
    r" ?(?:la |el )?$",
    re.IGNORECASE,
)
# Colombia: "calle 45 # 12-30", "Cra. 70 # 44-15"; Mérida: "Calle 60 #512 x 65 y 67".
_GRID = re.compile(
    r"(?<!\w)(?:calle|carrera|cra\.?|kr\.?|cl\.?|diagonal|transversal|av\.?|avenida)"
    r" ?\d{1,3}[a-z]? ?(?:bis ?)?(?:#|n[º°o]\.?|no\.?) ?\d{1,4}[a-z]?"
    r"(?: ?- ?\d{1,3}| (?:x|por) \d{1,3})",
    re.IGNORECASE,
)
# No street type, but a number and a flat: "Thames 1780, piso 2 depto B".
_NAME_NUMBER_FLAT = re.compile(
    r"(?<![\w])[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+(?: [A-ZÁÉÍÓÚÑ][\wáéíóúñ]+){0,3} \d{1,5}, ?(?:piso \d"
    r"|depto|dpto|apto|\d{1,2} ?[º°])"
)
# A postcode and city: "28012 Madrid", "C.P. 04600".
_POSTCODE = re.compile(r"\bc\.? ?p\.? ?\d{5}\b", re.IGNORECASE)


def _addresses(text: str) -> Iterator[ContactMatch]:
    for match in _GRID.finditer(text):
        yield ContactMatch("address", match.span())
    for match in _NAME_NUMBER_FLAT.finditer(text):
        yield ContactMatch("address", match.span())
    for match in _POSTCODE.finditer(text):
        yield ContactMatch("address", match.span())
    for match in _STREET_NUMBER.finditer(text):
        if (
            _ABBREVIATED.match(match.group())
            or _UNIT_AFTER.match(text, match.end())
            or _LIVING_BEFORE.search(text, max(0, match.start() - 30), match.start())
        ):
            yield ContactMatch("address", match.span())
