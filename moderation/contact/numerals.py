"""How numbers are said in words, and the words around a number that say it is an amount,
a date, a dose or a label rather than (part of) a phone number."""

from __future__ import annotations

import re

YEARS = re.compile(r"(?:19|20)\d\d")

DIGIT_WORDS = {
    "zero": "0",
    "nought": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
TENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
    "twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
    "eighty": "8", "ninety": "9",
}  # fmt: skip
# After a number, these make it an amount, a time or a count: "50 mg", "3 days", "20 %".
UNITS = frozenset(
    {
        "mg", "mcg", "ml", "g", "kg", "lb", "lbs", "st", "am", "pm", "days", "day", "weeks",
        "week", "months", "month", "years", "year", "yrs", "hours", "hrs", "hour", "mins",
        "minutes", "min", "times", "x", "percent", "pounds", "dollars", "rupees", "rs", "inr",
        "usd", "gbp", "aud", "k", "km", "miles", "mi", "steps", "step", "units", "tablets",
        "pills", "cm", "mm", "ft", "calories", "kcal", "people", "members", "posts", "sober",
        "clean", "free", "old", "yo", "th", "nd", "rd", "floor", "bed", "ward", "room", "lakh",
        "lakhs", "crore", "grand", "quid", "bucks", "euros", "words", "pages", "likes", "views",
        "followers", "messages", "texts", "replies", "kids", "attempts", "sessions",
    }
)  # fmt: skip
BEFORE_NOT_PHONE = frozenset(
    {
        "room", "ward", "bed", "bay", "platform", "bus", "route", "flight", "gate", "seat",
        "step", "day", "chapter", "verse", "psalm", "psalms", "page", "pg", "p", "isbn", "year",
        "age", "aged", "level", "floor", "apt", "flat", "unit", "pin", "case", "ref", "order",
        "ticket", "invoice", "tracking", "pnr", "account", "acct", "policy", "id", "roll",
        "reg", "registration", "batch", "lot", "serial", "version", "v", "score", "scored",
    }
)  # fmt: skip
