"""Staff badges in chat: an admin, a moderator of the room's community and a peer supporter
carry one beside their name (communities/roles.py decides which), in every frame a message
reaches a client by (live, resumed, history) and on the page; members carry none, and
their frames are exactly what they always were (docs/protocol.md: fields are only added)."""

from __future__ import annotations

import httpx
import pytest

from communities import roles
from communities.models import Community, CommunityModerator
from communities.roles import Role
from identity.accounts import set_roles
from tests.chat.conftest import LiveServer, Member, messages, next_frame, send
from tests.chat.people import make_community
from tests.helpers import join, submit

BADGES = {"Heron": None, "Oak": "peer_supporter", "Rowan": "moderator", "Alder": "admin"}


def _author(name: str, badge: str | None) -> dict:
    return {"pseudonym": name, "badge": badge} if badge else {"pseudonym": name}


async def _appoint(live: LiveServer, member: Member, community: Community) -> None:
    async with live.ctx.db.transaction() as s:
        s.add(CommunityModerator(community_id=community.id, member_id=member.id))


@pytest.fixture
async def staffed(live: LiveServer) -> dict[str, Member]:
    """Heron (a member), Oak (a peer supporter), Rowan (the grief community's moderator) and
    Alder (an admin), with a room in the grief community and one in carers."""
    grief = await make_community(live.ctx)
    carers = await make_community(live.ctx, "carers", "Carers")
    await live.room("grief-room", community_id=grief.id)
    await live.room("carers-room", community_id=carers.id)
    people = {name: await live.member(name) for name in BADGES}
    await set_roles(live.ctx.db, "Oak", peer_supporter=True)
    await set_roles(live.ctx.db, "Alder", admin=True)
    await _appoint(live, people["Rowan"], grief)
    return people


async def test_staff_carry_a_badge_live_resumed_and_in_history(
    live: LiveServer, staffed: dict[str, Member]
) -> None:
    async with live.connect(staffed["Heron"], "grief-room") as reader:
        await next_frame(reader, "hello")
        for name, member in staffed.items():
            async with live.connect(member, "grief-room") as ws:
                await next_frame(ws, "hello")
                await send(ws, f"hello from {name}", f"c-{name}")
                [own] = await messages(ws, 1)
                assert own["author"] == _author(name, BADGES[name])  # the author's own echo
        live_frames = await messages(reader, len(staffed))
        assert [m["author"] for m in live_frames] == [_author(n, b) for n, b in BADGES.items()]

        await reader.send('{"type": "history", "limit": 10}')
        history = await next_frame(reader, "history")
        assert history["messages"] == live_frames  # the same frames, badges and all

    async with live.connect(staffed["Heron"], "grief-room", after=0) as resumed:
        await next_frame(resumed, "hello")
        assert await messages(resumed, len(staffed)) == live_frames

    async with live.connect(staffed["Rowan"], "grief-room") as ws:  # a resend: the original
        await next_frame(ws, "hello")
        await send(ws, "hello from Rowan", "c-Rowan")
        again = await next_frame(ws, "message")
        assert again == live_frames[2] and again["author"]["badge"] == "moderator"


async def test_a_moderator_is_one_only_in_their_own_communitys_rooms(
    live: LiveServer, staffed: dict[str, Member]
) -> None:
    async with live.connect(staffed["Rowan"], "carers-room") as ws:
        await next_frame(ws, "hello")
        await send(ws, "hello, carers", "c1")
        [frame] = await messages(ws, 1)
    assert frame["author"] == {"pseudonym": "Rowan"}  # no badge: not a moderator there


async def test_the_page_shows_the_badges_and_a_plain_form_sends_them(
    live: LiveServer, staffed: dict[str, Member]
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as web:
        await join(web, "Wren")
        await set_roles(live.ctx.db, "Wren", peer_supporter=True)
        async with live.connect(staffed["Heron"], "grief-room") as reader:
            await next_frame(reader, "hello")
            posted = await submit(web, "/chat/grief-room", "/chat/grief-room", {"body": "hi"})
            assert posted.status_code == 303
            [frame] = await messages(reader, 1)
        assert frame["author"] == {"pseudonym": "Wren", "badge": "peer_supporter"}
        for name in ("Alder", "Rowan"):
            async with live.connect(staffed[name], "grief-room") as ws:
                await next_frame(ws, "hello")
                await send(ws, f"hello from {name}", f"p-{name}")
                await messages(ws, 1)
        page = (await web.get("/chat/grief-room")).text
    assert page.count('class="badge badge-ok chat-badge"') == 3
    for name, label in (("Wren", "Peer supporter"), ("Alder", "Admin"), ("Rowan", "Moderator")):
        badge = f'<span class="badge badge-ok chat-badge">{label}</span>'
        assert f'<span class="author">{name}</span> {badge}' in page


def test_the_most_senior_role_is_the_one_shown() -> None:
    assert roles.badge({Role.MEMBER}) is None
    assert roles.badge({Role.VISITOR}) is None
    assert roles.badge({Role.MEMBER, Role.FACILITATOR}) is None
    assert roles.badge({Role.MEMBER, Role.PEER_SUPPORTER}) is Role.PEER_SUPPORTER
    assert roles.badge({Role.PEER_SUPPORTER, Role.MODERATOR}) is Role.MODERATOR
    assert roles.badge({Role.MODERATOR, Role.ADMIN, Role.PEER_SUPPORTER}) is Role.ADMIN
