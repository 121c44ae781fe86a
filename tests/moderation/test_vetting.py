"""`vet`, the one way in for a member's words: the fixed order of its steps, and what each
surface declares (moderation/vetting.py)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette

from communities.models import Community
from core.errors import Refusal
from identity import accounts
from moderation import api as moderation
from moderation import vetting
from moderation.content import Action
from moderation.policy_cache import policy_changed
from moderation.vetting import Place, vet
from tests.helpers import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
CONTACT = "Text me on 07700 900123 any time."
CRISIS = "I can't go on anymore, I want to die."


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, new_member_posts=2, link_posts=3)


async def _member(app: Starlette, name: str):
    ctx = app.state.ctx
    return (await accounts.sign_up(ctx.db, ctx.settings, name, PASSPHRASE)).signed_in.member


async def _sanction(app: Starlette, member, kind: str, community_id: int | None) -> None:
    from moderation.models import Sanction

    async with app.state.ctx.db.transaction() as s:
        s.add(
            Sanction(
                member_id=member.id,
                kind=kind,
                community_id=community_id,
                reason="test",
                moderator_id=None,
                confirmed=True,
            )
        )


async def test_a_suspension_refuses_before_anything_is_counted(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    member = await _member(app, "quiet-fern")
    await _sanction(app, member, "suspend", None)
    place = Place(vetting.FORUM_POST, community.id)
    verdict = await vet(ctx, member, place, "Hello")
    assert verdict.refused and verdict.status == 403
    assert verdict.reason.code == "suspended"
    assert verdict.parts == {}  # the pipeline never ran
    # …and the attempt cost nothing from the rate limit.
    assert await ctx.rate_limits.check("post", f"m:{member.id}") is None


async def test_a_chat_mute_stops_only_what_the_surface_says_it_stops(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    member = await _member(app, "muted-wren")
    await _sanction(app, member, "mute", community.id)
    chat = await vet(ctx, member, Place(vetting.CHAT_ROOM, community.id), "hi")
    assert chat.refused and chat.reason.code == "muted"
    note = await vet(ctx, member, Place(vetting.SUPPORT_NOTE, community.id), "I need to talk")
    assert note.published  # a mute never stops anyone asking for support


async def test_a_suspended_member_asking_for_support_is_shown_where_else_to_turn(
    app: Starlette, community: Community
) -> None:
    member = await _member(app, "turned-away")
    await _sanction(app, member, "suspend", None)
    verdict = await vet(app.state.ctx, member, Place(vetting.SUPPORT_NOTE, community.id), "help")
    assert verdict.refused
    assert verdict.notice["code"] == "resources" and verdict.notice["resources"]


async def test_the_rate_limit_is_counted_per_attempt_before_the_pipeline(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    member = await _member(app, "fast-typist")
    place = Place(vetting.CHAT_ROOM, community.id)
    verdicts = [await vet(ctx, member, place, f"message {n}") for n in range(40)]
    limited = [v for v in verdicts if v.refused and v.reason.code == "rate_limited"]
    assert limited, "the chat_send limit never refused"
    first = limited[0]
    assert first.status == 429 and first.retry_after and first.retry_after > 0
    assert first.parts == {}
    refusal = first.refusal()
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.status, refusal.retry_after) == (
        "rate_limited",
        429,
        first.retry_after,
    )


async def test_anonymous_and_named_posts_are_counted_apart(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    member = await _member(app, "two-faces")
    named = Place(vetting.FORUM_POST, community.id)
    hidden = Place(vetting.FORUM_POST, community.id, anonymous=True)
    codes = [(await vet(ctx, member, named, f"named {n}")).reason for n in range(40)]
    assert any(reason and reason.code == "rate_limited" for reason in codes)
    # Named posting is now limited; anonymous posting is a separate count.
    assert (await vet(ctx, member, named, "one more")).reason.code == "rate_limited"
    assert (await vet(ctx, member, hidden, "anonymous words")).reason.code != "rate_limited"


async def test_new_members_first_chat_messages_are_held_and_links_refused(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    member = await _member(app, "new-here")
    place = Place(vetting.CHAT_ROOM, community.id)
    held = await vet(ctx, member, place, "Hello everyone")
    assert held.held and held.status == 202 and held.reason.code == "new_member"
    assert "message" in held.reason.message
    link = await vet(ctx, member, place, "look https://example.org/x")
    assert link.refused and link.reason.code == "links_not_allowed"


EMAIL = "write to me at sam.k@example.com"


async def test_a_new_members_email_address_is_contact_details_not_a_link(
    app: Starlette, community: Community
) -> None:
    # linkify makes the address a mailto: link; the link rule leaves it to the contact
    # filter, so the member is told what is really wrong, as the community's policy says.
    ctx = app.state.ctx
    member = await _member(app, "sam-new")
    place = Place(vetting.CHAT_ROOM, community.id)
    held = await vet(ctx, member, place, EMAIL)
    assert held.held and held.reason.code == "contact_details"
    async with ctx.db.transaction() as s:
        await moderation.set_policy(s, community.id, contact_policy="refuse")
    await policy_changed(ctx, community.id)  # as Kindred's own changes do
    refused = await vet(ctx, member, place, EMAIL)
    assert refused.refused and refused.reason.code == "contact_details"
    forum = await vet(ctx, member, Place(vetting.FORUM_POST, community.id), EMAIL)
    assert forum.refused and forum.reason.code == "contact_details"
    # Both at once: of two refusals, the contact-details reason is the one given.
    both = await vet(ctx, member, place, EMAIL + " or see https://example.org/x")
    assert both.refused and both.reason.code == "contact_details"
    async with ctx.db.transaction() as s:
        await moderation.set_policy(s, community.id, contact_policy="allow")
    await policy_changed(ctx, community.id)  # as Kindred's own changes do
    allowed = await vet(ctx, member, place, EMAIL)  # the community allows contact details
    assert allowed.reason is None or allowed.reason.code == "new_member"


async def test_surfaces_without_the_new_member_rules_publish_at_once(
    app: Starlette, community: Community
) -> None:
    member = await _member(app, "new-in-session")
    verdict = await vet(app.state.ctx, member, Place(vetting.SESSION_ROOM, community.id), "hi")
    assert verdict.published


async def test_where_nobody_reviews_a_hold_becomes_a_refusal_the_member_can_act_on(
    app: Starlette, community: Community
) -> None:
    member = await _member(app, "note-writer")
    verdict = await vet(app.state.ctx, member, Place(vetting.SUPPORT_NOTE, community.id), CONTACT)
    assert verdict.refused and verdict.reason.code == "contact_details"
    assert "your text is kept" in verdict.reason.message.lower()
    refusal = verdict.refusal(draft=CONTACT)
    assert (refusal.field, refusal.draft, refusal.status) == ("note", CONTACT, 422)


async def test_crisis_language_reaches_a_supporter_whatever_the_community_holds(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    async with ctx.db.transaction() as s:
        await moderation.set_policy(s, community.id, crisis_action="hold")
    await policy_changed(ctx, community.id)  # as Kindred's own changes do
    member = await _member(app, "in-the-dark")
    forum = await vet(ctx, member, Place(vetting.FORUM_POST, community.id), CRISIS)
    assert forum.held and forum.crisis  # the community holds crisis posts for a supporter
    note = await vet(ctx, member, Place(vetting.SUPPORT_NOTE, community.id), CRISIS)
    assert note.published and note.crisis and note.notice["code"] == "crisis"
    assert note.crisis_why


async def test_a_session_summary_refuses_crisis_details(
    app: Starlette, community: Community
) -> None:
    member = await _member(app, "circle-keeper")
    place = Place(vetting.SESSION_SUMMARY, community.id)
    verdict = await vet(app.state.ctx, member, place, "One member said: " + CRISIS)
    assert verdict.refused and verdict.reason.code == "crisis"
    assert verdict.reason.message == vetting.SESSION_SUMMARY.crisis_refusal


async def test_the_strictest_part_decides_and_the_refusal_names_it(
    app: Starlette, community: Community
) -> None:
    ctx = app.state.ctx
    async with ctx.db.transaction() as s:
        await moderation.set_policy(s, community.id, contact_policy="refuse")
    await policy_changed(ctx, community.id)  # as Kindred's own changes do
    member = await _member(app, "title-writer")
    place = Place(vetting.FORUM_POST, community.id)
    parts = {"title": "Call 07700 900123", "body": "Thank you all for reading."}
    verdict = await vet(ctx, member, place, parts)
    assert verdict.refused and verdict.part == "title"
    assert verdict.refusal().field == "title"
    # The body alone would only wait for a moderator (a new member's first post).
    assert verdict["body"].action is Action.HOLD


def test_every_declared_surface_is_used_by_a_surface() -> None:
    """A surface that no code vets through is dead, or a copy went around it."""
    code = "\n".join(
        path.read_text()
        for package in ("forum", "chat", "moderation", "identity", "kindred")
        for path in (ROOT / package).rglob("*.py")
        if path.name not in ("vetting.py", "api.py")
    )
    surfaces = [name for name, value in vars(vetting).items() if isinstance(value, vetting.Surface)]
    assert len(surfaces) >= 10
    for name in surfaces:
        assert re.search(rf"\b{name}\b", code), f"{name} is declared but nothing vets through it"


def test_no_surface_runs_the_pipeline_around_vet() -> None:
    """The steps vet takes in order are not reachable one by one from forum or chat."""
    for name in ("check_text", "load_policy", "trust_for", "is_crisis", "CommunityPolicy"):
        assert name not in moderation.__all__, name


async def test_a_member_past_the_posting_rules_is_not_counted_again(
    app: Starlette, community: Community
) -> None:
    # Counting a member's posts on every chat message is what new-member rules would cost;
    # once past both rules a member stays past them (counts only grow).
    ctx = app.state.ctx
    member = await _member(app, "old-hand")
    registry = ctx.extensions["moderation"]
    counted: list[int | None] = []
    real = registry.published_count

    async def counting(s, author_id, community_id, **kw):
        counted.append(community_id)
        return 5  # well past the first two held posts and the three for links

    registry.published_count = counting
    try:
        aged = member.model_copy(update={"created_at": member.created_at.replace(year=2020)})
        place = Place(vetting.CHAT_ROOM, community.id)
        assert (await vet(ctx, aged, place, "hello again")).published
        assert counted == [community.id, None]
        assert (await vet(ctx, aged, place, "and again")).published
        assert counted == [community.id, None]  # remembered: nothing counted the second time
    finally:
        registry.published_count = real
