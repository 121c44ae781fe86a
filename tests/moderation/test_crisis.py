from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moderation.contact import contact_filter
from moderation.content import Content, ContentKind, Decision
from moderation.crisis import CRISIS_CODE, crisis_filter, detect_crisis, find_crisis_language
from moderation.crisis import resources as helplines
from moderation.crisis.phrases import CrisisMatch, find_by_rules
from moderation.crisis.resources import crisis_resources
from moderation.pipeline import moderate
from tests.moderation.labelled import assert_big_and_balanced, load_labelled, score_and_print

LABELLED = Path(__file__).parent / "data" / "crisis_labelled.tsv"

# What the labelled set must keep achieving. Measured when this was written: precision 1.00,
# recall 0.97 on 315 rows. Three rounds of rows were written and scored before the detector
# had seen them (then fixed for and added here): precision 0.88 / 1.00 / 0.85, recall
# 0.47 / 0.52 / 0.55. Expect real-world recall nearer those than the figure printed here:
# crisis is said in endless ways, and a phrase list only knows the ones it has seen.
# Since the model gained its phrase reading (2026-12-08) it reads more of what it never saw
# (tools/filter_report.py --split heldout: recall 0.78 -> 0.82 at the same precision) and
# flags eight of these lines' figures of speech ("I want to cut down on caffeine", "I'm going
# to kill this presentation tomorrow"): precision 0.95, recall 1.00.
MIN_PRECISION = 0.94
MIN_RECALL = 0.95

RESOURCES = [{"region": "GB", "name": "Samaritans", "phone": "116 123"}]


def post(
    text: str,
    kind: ContentKind = ContentKind.POST,
    action: str = "publish",
    resources: list[dict[str, Any]] | None = None,
) -> Decision:
    filter_ = crisis_filter(lambda: RESOURCES if resources is None else resources, action)  # type: ignore[arg-type]
    return moderate(Content(text, kind), filters=(filter_,))


def flagged(decision: Decision) -> bool:
    return bool(decision.notice and decision.notice.get("code") == CRISIS_CODE)


# --------------------------------------------------------------------------- the labelled set


def test_labelled_set_is_big_and_balanced_enough() -> None:
    assert_big_and_balanced(load_labelled(LABELLED))


def test_precision_and_recall_on_the_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    # Through the whole pipeline, so entity-encoded text and link targets count.
    precision, recall = score_and_print(
        "crisis language",
        load_labelled(LABELLED),
        lambda text: flagged(post(text)),
        lambda text: f"matched {find_crisis_language(text)}",
        capsys,
    )
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "I'm going to end it tonight",
        "i cant go on anymore, I've got the pills ready",
        "I don't want to be alive anymore",
        "thinking about cutting again tonight",
        "I wish I could just disappear forever and not wake up",
        "planning my suicide",
        "goodbye everyone, this is my last post",
        "I used to self-harm but tonight I want to cut again",
        "I’m going to kill my self",  # curly apostrophe, split "my self"
        "I WANT TO DIE",
        "I want to *die*",  # Markdown
        "No, I want to die",  # "no" as an answer, not a negation
        "i rly want to die",  # slang between subject and verb
    ],
)
def test_first_person_crisis_is_detected(text: str) -> None:
    assert detect_crisis(text)
    assert flagged(post(text))


@pytest.mark.parametrize(
    "text",
    [
        "after my attempt in 2019 I got help",
        "I used to self-harm, 3 years free now",
        "if you're thinking of killing yourself please call 988",
        "my brother said he wanted to die",
        'my friend said "I want to die" and I froze',
        "this commute is killing me",
        "I could kill for a coffee",
        "dying to see the new film",
        "my feet are killing me",
        "I'd rather die than sing karaoke",
        "what's the number for the suicide hotline?",
        "Suicide rates among young men are rising",
        "I would never kill myself",
        "I never want to hurt myself again",
        "I no longer want to die",
        "I'm not suicidal, just tired",
        "I'm going to end it with him tonight",
        "cut myself while cooking lol",
        "Signing off for the night, bye everyone!",
        "",
    ],
)
def test_other_uses_are_not_flagged(text: str) -> None:
    assert not detect_crisis(text)


def test_reports_the_phrase_that_matched() -> None:
    assert find_crisis_language("Honestly? I just want to die.") == CrisisMatch("want to die")
    assert find_crisis_language("Nice weather") is None


# --------------------------------------------------------------------------- the filter


def test_publishes_with_resources_and_the_crisis_flag() -> None:
    decision = post("I want to kill myself")
    assert decision.published
    assert decision.reason is None
    assert decision.notice == {
        "code": "crisis",
        "message": (
            "It sounds like you're going through something really hard right now. You're not "
            "alone: your post is up, and people here care. If you might act on these "
            "thoughts, please reach out to someone now:"
        ),
        "resources": RESOURCES,
    }
    assert decision.html == "<p>I want to kill myself</p>\n"


def test_message_names_the_kind_of_content() -> None:
    decision = post("i want to die", kind=ContentKind.CHAT)
    assert decision.notice is not None
    assert "your message is up" in decision.notice["message"]


def test_hold_tells_the_member_a_peer_supporter_will_look() -> None:
    decision = post("I want to kill myself", action="hold")
    assert decision.held
    assert decision.reason is not None and decision.reason.code == "crisis"
    assert "passed to a peer supporter" in decision.reason.message
    assert decision.notice is not None
    assert decision.notice["code"] == "crisis" and decision.notice["resources"] == RESOURCES
    assert "your post is up" not in decision.notice["message"]


def test_ordinary_posts_get_nothing_and_resources_are_not_looked_up() -> None:
    calls: list[int] = []

    def resources() -> list[dict[str, Any]]:
        calls.append(1)
        return RESOURCES

    decision = moderate(
        Content("Had a good day at group today", ContentKind.POST),
        filters=(crisis_filter(resources),),
    )
    assert decision.published and decision.notice is None
    assert calls == []


def test_quoting_someone_else_is_not_a_crisis() -> None:
    reply = "> I want to kill myself\n\nI'm so sorry you feel this way. Please call 116 123."
    assert not flagged(post(reply))
    assert flagged(post("> you okay?\n\nno. I want to kill myself"))


def test_with_contact_details_too_the_post_is_held_and_still_flagged() -> None:
    decision = moderate(
        Content("I want to die. text me 07700 900123", ContentKind.POST),
        filters=(contact_filter(), crisis_filter(lambda: RESOURCES)),
    )
    assert decision.held and decision.reason is not None
    assert decision.reason.code == "contact_details"
    assert flagged(decision) and decision.notice is not None
    assert decision.notice["resources"] == RESOURCES


def test_unknown_action_is_rejected_up_front() -> None:
    with pytest.raises(ValueError, match="action"):
        crisis_filter(lambda: [], "refuse")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- resources


def names(entries: list[dict[str, str]]) -> list[str]:
    return [entry["name"] for entry in entries]


def test_region_gets_its_own_lines_then_the_fallback() -> None:
    gb = crisis_resources("GB")
    assert names(gb)[:2] == ["Samaritans", "Shout"]
    assert gb[0]["phone"] == "116 123"
    assert gb[1]["text"] == "Text SHOUT to 85258"
    assert [entry["region"] for entry in gb][-2:] == ["*", "*"]
    assert any(entry.get("url") == "https://findahelpline.com" for entry in gb)
    assert any("immediate danger" in entry["name"] for entry in gb)
    assert all(entry["region"] in ("GB", "*") for entry in gb)


@pytest.mark.parametrize("region", ["gb", " GB ", "UK", "uk"])
def test_region_codes_are_forgiving(region: str) -> None:
    assert crisis_resources(region) == crisis_resources("GB")


@pytest.mark.parametrize("region", [None, "", "ZZ", "*", "INTL"])
def test_unknown_region_gets_international_lines_and_the_fallback(region: str | None) -> None:
    entries = crisis_resources(region)
    assert [entry["region"] for entry in entries] == ["INTL", "*", "*"]
    assert "Befrienders Worldwide" in names(entries)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("IE", {"Samaritans Ireland": "116 123"}),
        ("US", {"988 Suicide & Crisis Lifeline": "988"}),
        ("CA", {"9-8-8 Suicide Crisis Helpline": "988"}),
        ("AU", {"Lifeline": "13 11 14", "Beyond Blue": "1300 22 4636"}),
        ("NZ", {"1737 Need to talk?": "1737"}),
        ("IN", {"Tele-MANAS": "14416"}),
        ("DE", {"TelefonSeelsorge": "0800 111 0 111"}),
        ("FR", {"3114 (numéro national de prévention du suicide)": "3114"}),
    ],
)
def test_each_region_has_its_well_known_lines(region: str, expected: dict[str, str]) -> None:
    phones = {entry["name"]: entry.get("phone") for entry in crisis_resources(region)}
    for name, phone in expected.items():
        assert phones[name] == phone


def test_text_lines() -> None:
    texts = {e["name"]: e.get("text") for r in ("IE", "US") for e in crisis_resources(r)}
    assert texts["Crisis Text Line"] == "Text HOME to 741741"
    assert texts["Text 50808"] == "Text HELLO to 50808"


def test_callers_get_copies() -> None:
    crisis_resources("GB")[0]["name"] = "changed"
    assert crisis_resources("GB")[0]["name"] == "Samaritans"


def test_resources_file_is_well_formed() -> None:
    data = json.loads(helplines._RESOURCES_PATH.read_text(encoding="utf-8"))
    for entry in data["resources"]:
        assert set(entry) <= {"name", "phone", "text", "url", "region"}
        assert entry["name"] and entry["region"]
        assert entry.get("url", "https://").startswith("https://")
        if entry["region"] != "*":
            assert {"phone", "text", "url"} & set(entry), entry


def test_bad_resources_file_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "crisis_resources.json"
    bad.write_text(json.dumps({"resources": [{"region": "GB", "nmae": "typo"}]}))
    monkeypatch.setattr(helplines, "_RESOURCES_PATH", bad)
    helplines._load_resources.cache_clear()
    try:
        with pytest.raises(ValueError, match="bad crisis resource entry"):
            crisis_resources("GB")
    finally:
        monkeypatch.undo()
        helplines._load_resources.cache_clear()
    assert crisis_resources("GB")[0]["name"] == "Samaritans"


# --------------------------------------------------------------------------- regex safety

ADVERSARIAL = [
    "he said i want to die " * 909,
    "bye everyone see you " * 952,
    "i " * 10_000,
    "a " * 10_000,
    "not want to die " * 1_250,
    "want to " * 2_500,
    "kill myself laughing " * 952,
    "the thought of dying " * 952,
    "better off if i " * 1_250,
    "goodbye. " * 2_222,
    "sorry everyone. " * 1_250,
    "my self " * 2_500,
    "x" * 20_000,
    "." * 20_000,
]


def test_detector_finishes_on_adversarial_input() -> None:
    # No timing assertion: a catastrophic regex would hang here rather than return.
    for text in ADVERSARIAL:
        assert len(text) <= 20_000
        assert detect_crisis(text) in (True, False)


@pytest.mark.parametrize(
    "text",
    [
        # Run-on chat: the first thought ends without punctuation, and the second is a crisis.
        "cant do this anymore gonna unalive tn",
        "bruv i cant be arsed living no more, gonna end it tonite",
        "im fine lol gonna kms",
        # A negation followed by a new subject denied what came before, not what follows.
        "lol im fine (im not im gonna kms)",
        "no im gonna kill myself tonight",
    ],
)
def test_a_thought_ended_in_chat_does_not_carry_its_subject_or_negation(text: str) -> None:
    assert find_by_rules(text) is not None, text


@pytest.mark.parametrize(
    "text",
    [
        "im not gonna kill myself",
        "i dont think i want to die",
        "I no longer want to die",
        "my brother cant do this anymore lol he wants to die",
    ],
)
def test_denials_and_other_people_stay_set_aside(text: str) -> None:
    assert find_by_rules(text) is None, text
