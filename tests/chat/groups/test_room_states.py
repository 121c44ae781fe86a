"""A session's room shows only what makes sense in each state, without JavaScript (the page)
and with it (the `parts` the JSON API hands sessions.js): before the lobby opens, in the lobby,
let in before the start, live (without and with the floor, muted) and after the end."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.chat.groups.conftest import scheduled

PARTS = (
    "connection",
    "lobby",
    "not-started",
    "ended",
    "state",
    "conversation",
    "composer",
    "muted",
    "hand",
    "hand-button",
    "here-now",
)


def shown_parts(html: str) -> set[str]:
    """The parts the page shows; every element of a part must agree."""
    found: dict[str, set[bool]] = {}
    for tag in re.findall(r"<[a-z0-9]+ [^>]*data-part=\"[^\"]+\"[^>]*>", html):
        name = re.search(r'data-part="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        found.setdefault(name, set()).add(not re.search(r"\shidden(\s|>|$)", tag))
    assert all(len(v) == 1 for v in found.values()), found
    return {name for name, v in found.items() if True in v}


async def _view(client, session_id: int) -> tuple[str, set[str]]:  # type: ignore[no-untyped-def]
    page = (await client.get(f"/sessions/{session_id}")).text
    parts = (await client.get(f"/api/v1/sessions/{session_id}")).json()["parts"]
    assert set(parts) == set(PARTS)
    return page, {name for name, on in parts.items() if on}


async def _same(client, session_id: int, expected: set[str]) -> str:  # type: ignore[no-untyped-def]
    """The page and the API agree, and show exactly `expected` ("Here now" waits for the
    roster, which only the live connection brings: the page never shows it)."""
    page, api = await _view(client, session_id)
    assert api == expected, sorted(api ^ expected)
    assert shown_parts(page) == expected - {"here-now"}, sorted(shown_parts(page) ^ expected)
    return page


async def test_each_state_shows_only_its_controls(app, community, people) -> None:
    lead = await people.member("Lantern", supporter=True)
    wren = await people.member("Wren")
    later = await scheduled(lead, title="Later circle", after=timedelta(days=2))
    before = (await wren.get(f"/sessions/{later}")).text
    assert "The lobby opens" in before and 'id="chat"' not in before
    assert 'data-part="' not in before

    session_id = await scheduled(lead, after=timedelta(minutes=10))
    base = f"/api/v1/sessions/{session_id}"
    assert (await wren.post(f"{base}/join", json={"agree": True})).status_code == 200
    lobby = await _same(wren, session_id, {"connection", "lobby"})
    # The heading and the connection's status are two elements, never one line.
    assert '<h2 id="room-title">The conversation</h2>' in lobby
    assert re.search(r'<p class="chat-state" id="chat-state"[^>]*>Not live', lobby)
    assert "Raise my hand" in lobby  # rendered for the script to show, but hidden

    await lead.post(f"{base}/admit", json={"member": "Wren"})
    early = await _same(wren, session_id, {"connection", "not-started", "conversation", "here-now"})
    assert "The conversation opens when the facilitator starts the session" in early
    facilitator = {"connection", "not-started", "conversation", "here-now"}
    assert "The people you let in wait here" in await _same(lead, session_id, facilitator)

    await lead.post(f"{base}/start")
    live = {"connection", "conversation", "composer", "here-now"}
    page = await _same(wren, session_id, live)  # no state box: nothing to say yet
    assert re.search(r'<div class="session-state" id="session-state"[^>]*hidden>', page)
    await _same(lead, session_id, live)

    await lead.post(f"{base}/turn-taking", json={"on": True})
    turns = live | {"state", "hand", "hand-button"}
    await _same(wren, session_id, turns)
    await wren.post(f"{base}/hand", json={"up": True})
    raised = await _same(wren, session_id, turns)
    assert "Your place in the queue: 1." in raised and "Lower my hand" in raised

    await lead.post(f"{base}/floor", json={"member": "Wren"})
    floor = await _same(wren, session_id, turns - {"hand-button"})
    assert "You have the floor. Go ahead." in floor
    await _same(lead, session_id, live | {"state"})  # facilitators have no hand to raise

    await lead.post(f"{base}/mute", json={"member": "Wren", "muted": True})
    await _same(wren, session_id, {"connection", "conversation", "state", "muted", "here-now"})
    await lead.post(f"{base}/mute", json={"member": "Wren", "muted": False})

    await lead.post(f"{base}/end")
    _page, after = await _view(wren, session_id)
    assert after == {"ended", "conversation"}
    over = (await wren.get(f"/sessions/{session_id}")).text
    assert "This session has ended." in over and 'id="chat"' not in over
    assert "Raise my hand" not in over and "Here now" not in over
