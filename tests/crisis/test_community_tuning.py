"""A community tunes its crisis filter: its own crisis phrases, and how readily the model's
reading of wording counts (more | standard | fewer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from moderation.content import Content, ContentKind, ContentPolicy, WatchedWord
from moderation.crisis import SENSITIVITY, crisis_filter, find_crisis_language
from moderation.models import AuditEntry, CommunityPolicyEntry, ModerationCase
from moderation.pipeline import moderate
from moderation.policy import load as load_policy
from moderation.watched import watched_words_filter
from tests.crisis.conftest import start_thread
from tests.helpers import submit
from tests.moderation.labelled import load_split

DATA = Path(__file__).resolve().parent.parent / "moderation" / "data"
SETTINGS = "/moderation/communities/recovery"


async def set_policy(client, sensitivity: str, crisis_action: str = "publish"):
    return await submit(
        client,
        SETTINGS,
        SETTINGS,
        {
            "what": "policy",
            "contact_policy": "hold",
            "crisis_action": crisis_action,
            "crisis_sensitivity": sensitivity,
        },
    )


async def test_a_communitys_own_crisis_phrase_flags_a_post(app, people) -> None:
    # A code a community agreed on for "I'm not safe today", which the filter can't know.
    quiet = "Having an orange day again."
    assert find_crisis_language(quiet) is None
    added = await submit(
        people["rowan"],
        SETTINGS,
        SETTINGS,
        {"what": "add_word", "pattern": "orange day", "action": "crisis"},
    )
    assert added.status_code == 303
    thread = await start_thread(people["alder"], quiet)
    assert thread["posts"][0]["status"] == "published"
    async with app.state.ctx.db.read() as s:
        [case] = list(await s.exec(select(ModerationCase)))
        audit = list(await s.exec(select(AuditEntry.action, AuditEntry.reason)))
    assert case.crisis and "community's crisis phrase" in (case.crisis_why or "")
    assert ("add_watched_word", "crisis: orange day") in audit
    # A crisis phrase is not a watched word that holds or refuses: the post stays up, and
    # the author sees resources.
    page = await people["alder"].get(f"/t/{thread['id']}?notice=crisis")
    assert "crisis-panel" in page.text


async def test_a_moderator_sets_the_sensitivity_and_it_is_audited(app, people, community) -> None:
    saved = await set_policy(people["rowan"], "fewer")
    assert saved.status_code == 303
    async with app.state.ctx.db.read() as s:
        stored = await load_policy(s, community.id)
        audit = list(
            await s.exec(select(AuditEntry.reason).where(AuditEntry.action == "set_policy"))
        )
    assert stored.crisis_sensitivity == "fewer"
    assert audit == ["contact: hold, crisis: publish, sensitivity: fewer"]
    page = await people["rowan"].get(SETTINGS)
    assert '<option value="fewer" selected>' in page.text


async def test_an_unknown_sensitivity_is_refused_with_a_reason(app, people, community) -> None:
    refused = await set_policy(people["rowan"], "maximum")
    assert refused.status_code == 422
    assert "Choose one of the listed options" in refused.text
    async with app.state.ctx.db.read() as s:
        stored = await load_policy(s, community.id)
        row = await s.get(CommunityPolicyEntry, community.id)
    assert stored.crisis_sensitivity == "standard"
    assert row is None  # a refused change stores nothing


async def test_members_cannot_change_the_crisis_settings(people) -> None:
    page = await people["alder"].get(SETTINGS)
    assert page.status_code == 403


def _unseen_lines() -> list[str]:
    # Lines the model wasn't trained on (on its own training lines it is too sure of itself
    # for the setting to show).
    return [text for _, _, text in load_split(DATA / "crisis_test.tsv")]


def test_more_flags_a_superset_of_standard_and_standard_of_fewer() -> None:
    flagged = {
        level: {text for text in _unseen_lines() if find_crisis_language(text, sensitivity=level)}
        for level in SENSITIVITY
    }
    assert flagged["fewer"] <= flagged["standard"] <= flagged["more"]
    # And the setting makes a difference someone would notice.
    assert len(flagged["more"]) > len(flagged["standard"]) > len(flagged["fewer"])


def test_the_filter_refuses_an_unknown_sensitivity() -> None:
    with pytest.raises(ValueError, match="sensitivity"):
        crisis_filter(lambda: [], sensitivity="maximum")


def test_crisis_phrases_pass_through_the_watched_words_filter_untouched() -> None:
    words = (WatchedWord("long walk into the hills", "crisis"),)
    decision = moderate(
        Content(
            "the long walk into the hills", ContentKind.POST, ContentPolicy(watched_words=words)
        ),
        filters=(watched_words_filter, crisis_filter(lambda: [], phrases=words)),
    )
    assert decision.text == "the long walk into the hills"
    assert decision.published and decision.notice and decision.notice["code"] == "crisis"
    assert decision.flags == {
        "crisis": "matched this community's crisis phrase \u201clong walk into the hills\u201d"
    }
