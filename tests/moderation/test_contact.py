from __future__ import annotations

from pathlib import Path

import pytest

from moderation import contact
from moderation.contact import ContactMatch, contact_filter, find_contact_details
from moderation.pipeline import Action, Content, ContentKind, Decision, moderate
from tests.moderation.labelled import assert_big_and_balanced, load_labelled, score_and_print

LABELLED = Path(__file__).parent / "data" / "contact_labelled.tsv"

# What the labelled set must keep achieving. Measured (through the whole pipeline) when this
# was written: precision 0.99, recall 1.00 on 368 rows. Rows were written as members would
# write them. Three rounds of rows were written and scored before the detector had seen them
# (then fixed for and added here): precision 0.98 / 1.00 / 1.00, recall 0.96 / 0.85 / 1.00.
# Those are the better guide to real-world performance; the set's own figures are optimistic.
MIN_PRECISION = 0.98
MIN_RECALL = 0.97


def post(text: str, kind: ContentKind = ContentKind.POST, action: str = "hold") -> Decision:
    return moderate(Content(text, kind), filters=(contact_filter(action),))  # type: ignore[arg-type]


def shown(text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.span[0] : m.span[1]]) for m in find_contact_details(text)]


# --------------------------------------------------------------------------- the labelled set


def test_labelled_set_is_big_and_balanced_enough() -> None:
    assert_big_and_balanced(load_labelled(LABELLED))


def test_precision_and_recall_on_the_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    # Through the whole pipeline, so entity-encoded text and link targets count.
    precision, recall = score_and_print(
        "contact details", load_labelled(LABELLED), lambda text: post(text).held, shown, capsys
    )
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("call 07700 900123 x", "phone", "07700 900123"),
        ("my cell is (555) 123-4567.", "phone", "(555) 123-4567"),
        ("+33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
        ("I'm 25 07700 900123", "phone", "07700 900123"),
        ("jane.doe@gmail.com!", "email", "jane.doe@gmail.com"),
        ("jane [at] proton [.] me", "email", "jane [at] proton [.] me"),
        ("I'm at ann (at) aol (dot) co (dot) uk", "email", "ann (at) aol (dot) co (dot) uk"),
        ("I live at 221B Baker St.", "address", "221B Baker St."),
        ("London SW1A 1AA", "address", "SW1A 1AA"),
        ("Springfield, IL 62704", "address", "IL 62704"),
        ("see wa.me/447700900123", "social", "wa.me/447700900123"),
        ("my discord is jane#1234", "social", "jane#1234"),
    ],
)  # fmt: skip
def test_finds_the_detail_and_its_span(text: str, kind: str, found: str) -> None:
    assert (kind, found) in shown(text)


def test_match_type() -> None:
    assert find_contact_details("email me: a.b@gmail.com") == [ContactMatch("email", (10, 23))]


@pytest.mark.parametrize(
    "text",
    [
        "@sunflower thank you, @quiet_storm too",  # mentions of Kindred members
        "Call Samaritans on 116 123 or text SHOUT to 85258",
        "US: 988. Old number 1-800-273-8255. UK: 999, 111. Crisis Text Line 741741.",
        "TelefonSeelsorge 0800 111 0 111, Lifeline 13 11 14, Beyond Blue 1300 22 4636",
        "+44 800 58 58 58",  # CALM, dialled from abroad
        "12/03/2024, 2024-03-12, 10:30, 7pm, March 3rd, day 45, step 4 of 12",
        "£1,200 and $45.99, 3000 calories, 50mg, 18 months clean, 20%, born 1998",
        "1 234 567 890 people; 10.000.000 euros; scores 12 14 16 18 20",
        "find a meeting near you at alcoholics-anonymous.org.uk",
        "my insta is private now",
        "",
    ],
)
def test_ignores_numbers_and_mentions_that_are_not_contact_details(text: str) -> None:
    assert find_contact_details(text) == []


# --------------------------------------------------------------------------- the filter

HOLD_MESSAGE = (
    "Your post looks like it includes contact details (a phone number, email, address or "
    "social media account). Sharing these can make you identifiable and open you to contact "
    "you didn't want, so a moderator will look at it before it appears. You can edit it to "
    "remove them."
)


def test_holds_with_a_calm_message() -> None:
    decision = post("text me on 07700 900123")
    assert decision.held
    assert decision.reason is not None
    assert decision.reason.code == "contact_details"
    assert decision.reason.message == HOLD_MESSAGE
    # Held content keeps its HTML so a moderator can review and publish it.
    assert "07700 900123" in decision.html
    assert decision.notice is None


def test_message_names_the_kind_of_content() -> None:
    decision = post("my snap is jane_doe99", kind=ContentKind.CHAT)
    assert decision.reason is not None
    assert decision.reason.message.startswith("Your message looks like")


def test_refuse_tells_the_member_to_remove_them() -> None:
    decision = post("jane@gmail.com", action="refuse")
    assert decision.refused and decision.html == ""
    assert decision.reason is not None and decision.reason.code == "contact_details"
    assert "Please remove them and send it again." in decision.reason.message


def test_allow_never_acts() -> None:
    assert post("07700 900123, jane@gmail.com", action="allow").published


def test_ordinary_posts_are_published() -> None:
    decision = post("Day 45 today. Samaritans (116 123) helped me at 3am. Thanks @sunflower!")
    assert decision.published and decision.reason is None


def test_unknown_action_is_rejected_up_front() -> None:
    with pytest.raises(ValueError, match="action"):
        contact_filter("block")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "jane&#64;gmail.com",  # an entity only a reader sees decoded
        "0770**0** 900123",  # Markdown splitting the number in the source
        "07700\u200b900123",  # an invisible character
        "０７７００ ９００１２３",  # full-width digits
        "jane＠gmail．com",  # full-width @ and .
        "[chat with me](https://wa.me/447700900123)",  # a link target
        "[chat with me](https://wa%2Eme/447700900123)",  # a percent-encoded host
        "[x][1]\n\n[1]: https://t.me/janedoe",  # a reference-style link
        "![me](https://instagram.com/janedoe)",  # an image, rendered as a link
    ],
)
def test_looks_past_markup_and_encoding(text: str) -> None:
    assert post(text).held


def test_works_alongside_other_filters() -> None:
    def notice_filter(item: object) -> None:
        return None

    decision = moderate(
        Content("ring 07700 900123", ContentKind.POST), filters=(notice_filter, contact_filter())
    )
    assert decision.held and decision.action is Action.HOLD


# --------------------------------------------------------------------------- regex safety

ADVERSARIAL = [
    "1 " * 10_000,
    "a@" * 10_000,
    ("at dot " * 3_000)[:20_000],
    "0" * 20_000,
    "1-" * 10_000,
    "1( " * 6_666,
    "+1 " * 6_666,
    "1." * 10_000,
    "a." * 10_000,
    "a" * 20_000,
    "a(at)" * 4_000,
    "a . " * 5_000,
    "a @ " * 5_000,
    "snap: " * 3_333,
    "my snap is " * 1_818,
    "14 Elm " * 2_857,
    "x.com/" * 3_333,
    "a#1" * 6_666,
    "one " * 5_000,
    "dm me @" * 2_857,
    "12345678901234 " * 1_333,
]
DETECTORS = [
    contact._find_phones,
    contact._find_emails,
    contact._find_addresses,
    contact._find_social,
    find_contact_details,
]


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.__name__)
def test_detectors_finish_on_adversarial_input(detector: object) -> None:
    # No timing assertion: a catastrophic regex would hang here rather than return.
    for text in ADVERSARIAL:
        assert len(text) <= 20_000
        assert isinstance(list(detector(text)), list)  # type: ignore[operator]
