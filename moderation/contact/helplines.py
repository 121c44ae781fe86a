"""Public crisis and support lines: members pointing each other to help is what we want, so
these numbers (and the email domains of such services) are never held as contact details."""

from __future__ import annotations

import re

# Public crisis and support lines, as dialled nationally (digits only). Members sharing these
# is help, not a privacy risk. Short codes (116 123, 988, 999, 85258 ...) are listed for
# completeness although they are too short to look like a personal number anyway.
HELPLINE_NUMBERS: frozenset[str] = frozenset(
    {
        "116123",  # Samaritans (UK, IE); also TelefonSeelsorge DE
        "116111",  # Childline and other EU child helplines
        "116006",  # EU victim support
        "988",  # US/CA Suicide & Crisis Lifeline
        "911",
        "999",
        "112",
        "111",  # NHS 111
        "000",  # AU emergency
        "85258",  # Shout (UK)
        "741741",  # Crisis Text Line (US)
        "50808",  # Text 50808 (IE)
        "18002738255",  # old US National Suicide Prevention Lifeline, still widely quoted
        "8002738255",
        "131114",  # Lifeline Australia
        "0477131114",  # Lifeline Australia text
        "1300224636",  # Beyond Blue (AU)
        "1300659467",  # Suicide Call Back Service (AU)
        "1800551800",  # Kids Helpline (AU)
        "1737",  # Need to talk? (NZ)
        "0800543354",  # Lifeline Aotearoa (NZ)
        "14416",  # Tele-MANAS (IN)
        "18008914416",
        "08001110111",  # TelefonSeelsorge (DE)
        "08001110222",
        "3114",  # numéro national de prévention du suicide (FR)
        "0800585858",  # CALM (UK)
        "03001233393",  # Mind infoline (UK)
        "08000684141",  # Papyrus HOPELINE247 (UK)
        "08082000247",  # National Domestic Abuse Helpline (UK)
        "08001111",  # Childline (UK)
        "1800247247",  # Pieta (IE)
        "18007997233",  # US National Domestic Violence Hotline
        "8007997233",
        "18006564673",  # RAINN (US)
        "8006564673",
        "18006624357",  # SAMHSA helpline (US)
        "8006624357",
        "18664887386",  # The Trevor Project (US)
        "8664887386",
        "18775658860",  # Trans Lifeline (US)
        "8775658860",
        "18009506264",  # NAMI HelpLine (US)
        "8009506264",
        "18334564566",  # Talk Suicide Canada (formerly Crisis Services Canada)
        "8334564566",
        "18006686868",  # Kids Help Phone (CA)
        "8006686868",
        "686868",  # Kids Help Phone text line (CA)
        "18552423310",  # Hope for Wellness (CA)
        "8552423310",
        "03003300630",  # Switchboard LGBT+ (UK)
        "08088010677",  # Beat eating disorders helpline (UK)
        "03003047000",  # SANEline (UK)
        "03444775774",  # Anxiety UK
        "08085002222",  # Rape Crisis England & Wales
        "08088010327",  # Men's Advice Line (UK)
        "1800804848",  # Aware (IE)
        "1800666666",  # Childline (IE)
        "1800341900",  # Women's Aid (IE)
        "1800737732",  # 1800RESPECT (AU)
        "1800184527",  # QLife (AU)
        "1300789978",  # MensLine Australia
        "139276",  # 13YARN (AU)
        "1800011046",  # Open Arms veterans (AU)
        "0800376633",  # Youthline (NZ)
        "0800111757",  # Depression Helpline (NZ)
        "0508828865",  # Suicide Crisis Helpline (NZ)
        "9152987821",  # iCall, TISS (IN)
        "9820466726",  # AASRA (IN)
        "02227546669",  # AASRA landline (IN)
        "9999666555",  # Vandrevala Foundation (IN)
        "18602662345",  # Vandrevala Foundation (IN)
        "18002333330",  # Vandrevala Foundation (IN)
        "18005990019",  # KIRAN (IN)
        "04424640050",  # Sneha (IN)
        "04424640060",  # Sneha (IN)
        "08046110007",  # NIMHANS (IN)
        "8376804102",  # Fortis Stress Helpline (IN)
        "9922001122",  # Connecting Trust (IN)
        "9922004305",  # Connecting Trust (IN)
        "1098",  # Childline (IN)
        "181",  # Women helpline (IN)
        # Spain and Latin America (the Spanish filters' helplines: issue 18).
        "024",  # Línea 024, atención a la conducta suicida (ES)
        "717003717",  # Teléfono de la Esperanza (ES)
        "900202010",  # Fundación ANAR, niños y adolescentes (ES)
        "900107917",  # Cruz Roja Te Escucha (ES)
        "016",  # violencia de género (ES)
        "8009112000",  # Línea de la Vida (MX)
        "5552598121",  # SAPTEL (MX)
        "135",  # Centro de Asistencia al Suicida, CABA y GBA (AR)
        "1152751135",  # Centro de Asistencia al Suicida (AR)
        "08003451435",  # Centro de Asistencia al Suicida, desde todo el país (AR)
        "4141",  # *4141, prevención del suicidio (CL)
        "6003607777",  # Salud Responde (CL)
        "106",  # Línea 106, Bogotá (CO)
        "192",  # Línea 192, salud mental opción 4 (CO)
        "113",  # Línea 113, salud mental opción 5 (PE)
        "08000767",  # Línea Vida, prevención del suicidio (UY)
        "0767",  # *0767 desde un celular (UY)
    }
)

# The national numbers as dialled after a country code: without the trunk 0, and only the
# ones long enough not to be the tail of an ordinary number.
_HELPLINES_WITHOUT_TRUNK = frozenset(
    number.lstrip("0") for number in HELPLINE_NUMBERS if len(number.lstrip("0")) >= 8
)

# The last eight digits of every number of eight or more that `is_helpline` accepts: the
# listed numbers and their national parts end in these.
_TAILS = frozenset(
    number[-8:] for number in HELPLINE_NUMBERS | _HELPLINES_WITHOUT_TRUNK if len(number) >= 8
)

# Email domains of public services (e.g. jo@samaritans.org) are not personal contact details.
HELPLINE_EMAIL_DOMAINS = frozenset({"samaritans.org"})


def is_helpline(digits: str, international: bool = True) -> bool:
    """Whether `digits` dial a public helpline, as listed or with a country code before the
    national number ("+91 91529 87821", "0091 9152987821", "64 800 543 354", "0 9152987821").
    A personal number ending in a listed line after a 1-3 digit prefix is too unlikely to
    matter, so the prefix needn't be a "+"; `international` is kept for callers' clarity."""
    if len(digits) >= 8 and digits[-8:] not in _TAILS:
        return False  # (the quick answer for most long numbers)
    if digits in HELPLINE_NUMBERS:
        return True
    if digits.startswith("00"):
        digits = digits[2:]
    return any(digits[k:] in _HELPLINES_WITHOUT_TRUNK for k in range(1, 4))


# A number as people write one: five to sixteen digits, single spaces, dots or dashes
# between (possessive, so a long run of digits is read once).
_NUMBER_LIKE = re.compile(r"\+?\d(?:[ .\-]?\d){4,15}+")
_NOT_DIGITS = re.compile(r"\D")


def mask_helplines(text: str) -> str:
    """`text` with every public helpline number in it replaced by the word "helpline", as
    the contact model reads it: the model knows "ring helpline" is no one's own number,
    whichever country's line it is ("iCall +91 91529 87821")."""
    if _NUMBER_LIKE.search(text) is None:
        return text
    return _NUMBER_LIKE.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    return "helpline" if is_helpline(_NOT_DIGITS.sub("", match.group())) else match.group()
