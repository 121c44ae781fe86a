from __future__ import annotations

from pathlib import Path

import pytest

from moderation.contact import (
    FINDERS,
    ContactMatch,
    Finder,
    contact_filter,
    find_by_rules,
    find_contact_details,
)
from moderation.contact.clues import AnyText, Clues
from moderation.contact.helplines import mask_helplines
from moderation.content import Action, Content, ContentKind, Decision
from moderation.pipeline import moderate
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
    "1 " * 9_990 + "call",
    "at the rate " * 1_666,
    "a-" * 10_000,
    "O0l " * 5_000,
    "flat 1 near " * 1_666,
    "u/ab " * 4_000,
    "x @ y . " * 2_500,
    "Abc 123456 " * 1_818,
    "double nine " * 1_666,
]


@pytest.mark.parametrize("finder", FINDERS, ids=lambda f: f.__name__)
def test_finders_finish_on_adversarial_input(finder: Finder) -> None:
    # No timing assertion: a catastrophic regex would hang here rather than return. Each
    # finder runs with every pattern (AnyText: no clue holds it back) and as it normally does.
    for text in ADVERSARIAL:
        assert len(text) <= 20_000
        assert isinstance(list(finder(text, AnyText(text))), list)
        assert isinstance(list(finder(text, Clues(text))), list)


def test_find_contact_details_finishes_on_adversarial_input() -> None:
    for text in ADVERSARIAL:
        assert isinstance(find_contact_details(text), list)


# --------------------------------------------------------------------------- issue 13 mechanisms
# Fresh examples written for these tests (not rows of the dev or test splits).


@pytest.mark.parametrize(
    "text",
    [
        # split across words, area code apart, a trunk 0 or "+" given separately
        "ring 0161 then 498 then 2271",
        "area code 503, then the number is 555 0148",
        "+61 first, after that 412 555 018",
        "Chennai number: 94441 (first bit) and 23087 (last bit)",
        # digits as words, tens, double/triple
        "oh seven nine double eight, four five six, triple two one",
        "nine eight seventy six, fifty four thirty two ten",
        # look-alike letters
        "txt me O79OO 9OO 3l5",
        "5O3-SSS-Ol48",
        "mob: 9B76S 4321O",
        # spread out
        "0_7_9_0_0 9_0_0_3_1_5",
        "5 0 3 / 5 5 5 / 0 1 4 8 cell",
        "94.44.12.30.87",
        # with a phone word, any country's shape
        "my number is 655 123 987 (Spain)",
        # look-alikes + helplines don't mix up: a personal Indian number with +91
        "WhatsApp +91 98101 23456",
    ],
)
def test_finds_phone_numbers_said_in_parts(text: str) -> None:
    assert post(text).held, shown(text)


@pytest.mark.parametrize(
    "text",
    [
        "iCall +91 91529 87821, AASRA 98204 66726",
        "KIRAN 1800 599 0019 or Vandrevala 9999-666-555",
        "Talk Suicide Canada 1 833 456 4566, Kids Help Phone 1-800-668-6868",
        "NZ: Lifeline 0800 543 354 (or +64 800 543 354 from abroad), 1737",
        "Beyond Blue 1300 22 4636, QLife 1800 184 527",
        "UK: 999, 111 or Samaritans 116 123. US: text 741741.",
        "took 2 tablets at 10:30, then 1 more at 14:45, 500 mg total",
        "week 3: 12 days sober, 4 relapses, 20000 steps, 2 kids",
        "crime ref no 31/77654/25, still nothing from them",
        "ISBN 978-1-4028-9462-6",
        "Psalm 23:4, John 3:16 and Romans 8:28",
        "part one was 2019, part two in 2021",
        "mood this week: 5 6 4 7 5 6 6 7 8 7",
        "ward 12, bed 4, room 2081",
    ],
)
def test_helplines_and_everyday_numbers_stay_postable(text: str) -> None:
    assert not post(text).held, shown(text)


@pytest.mark.parametrize(
    "text",
    [
        "dev.k at the rate yahoo dot co dot in",
        "tomas_b at-sign outlook full stop com",
        "quiet-river-dot-moss-at-hotmail-dot-com",
        "meg, at symbol, icloud period com",
        "s k y e . w a l k s\n@\ng m a i l . c o m",
        "l-i-l-y-@-g-m-x-.-n-e-t",
        "owl.nights @ hot mail . co . uk",
        # only implied: the provider and a name the reader knows
        "my forum name @ yahoo, easy",
        "same username, but at icloud",
        "hotmail - identical to my handle here",
        "stick @protonmail.com after my username",
        "firstname.surname at gmail, I'm Asha Rao",
    ],
)
def test_finds_disguised_and_implied_emails(text: str) -> None:
    assert "email" in {kind for kind, _ in shown(text)}, shown(text)
    decision = post(text)
    assert decision.held and decision.reason is not None
    assert decision.reason.code == "contact_details"


@pytest.mark.parametrize(
    "text",
    [
        "life update: me@the.end",
        "gmail is down again, anyone else?",
        "my outlook is the same as my name suggests: hopeful",
        "I was at the gym. Period. Then home.",
        "see samaritans.org or 988lifeline.org, or email jo@samaritans.org",
        "@moonbeam and @quiet_storm, thank you both",
    ],
)
def test_email_look_alikes_that_are_not_addresses(text: str) -> None:
    # The rules leave these alone. The model beside them reads the pun on "outlook" as an
    # implied address (it is worded like one); its false alarms are measured on the splits
    # in test_filter_quality.py, not here.
    assert not find_by_rules(text), shown(text)


@pytest.mark.parametrize(
    "text",
    [
        "Flat 7B, Lakshmi Apartments, 5th Main, Malleshwaram, Bengaluru 560003",
        "H.No 4-12, near Hanuman temple, Kukatpally",
        "sector 21, pocket C, house 114, Rohini",
        "opp. railway station, Shastri Nagar, Kanpur 208005",
        "pin code: 682016, Ernakulam side",
        "zip code 97214, Portland east side",
        "we're at 80205 if anyone local wants a walk",
        "I'm on 22nd and Maple, the blue door",
        "I live on Foxglove Lane off the high street",
    ],
)
def test_finds_addresses_in_uk_us_and_indian_shapes(text: str) -> None:
    assert post(text).held, shown(text)


@pytest.mark.parametrize(
    "text",
    [
        "the clinic is near the station, second floor",
        "she lives on Cedar Road, I think",
        "I walked 10000 steps up Station Road today",
        "24/7 support, sector 3 of the book",
        "I'm at 12000 steps already",
    ],
)
def test_address_like_talk_that_is_not_an_address(text: str) -> None:
    assert not post(text).held, shown(text)


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("find me at u/sleepy_otter_77", True),
        ("come join r/stopdrinking, it helped me", False),
        ("steam → nightbus_44", True),
        ("psn: quietgamer_88", True),
        ("on insta, search Maya Fernandes Goa", True),
        # The name before the platform, or "I'm @name" after it.
        ("I go by tidepool on discord if you want to chat", True),
        ("im rowan_h on snapchat", True),
        ("known as Quietmoth on steam", True),
        ("on twitter/x, I'm @fern_and_moss", True),
        pytest.param(
            "I'm active on discord most evenings",
            False,
            # The rules leave it alone; the model (score 4.6, threshold 1.7) reads "I'm ... on
            # discord" as the shape of a handle. Known false alarm, left for the next round.
            marks=pytest.mark.xfail(strict=True, reason="contact model false alarm"),
        ),
        ("I'm new on reddit, be gentle", False),
    ],
)
def test_handles_with_the_platform_named(text: str, held: bool) -> None:
    assert post(text).held is held, shown(text)


def test_the_model_reads_helpline_numbers_as_helplines() -> None:
    # The model only knows the numbers its training lines held; any listed public line, in
    # any country's format, is the word "helpline" to it, so it stays postable.
    assert mask_helplines("iCall +91 91529 87821, AASRA 98204 66726") == (
        "iCall helpline, AASRA helpline"
    )
    assert mask_helplines("ring 116 123 or text 85258") == "ring helpline or text helpline"
    assert mask_helplines("my number is 07700 900461") == "my number is 07700 900461"
    assert not post("Lifeline on 13 11 14, Kids Helpline 1800 55 1800").held
