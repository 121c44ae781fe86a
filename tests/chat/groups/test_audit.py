"""Every facilitator's action on a group session leaves exactly one audit entry, about the
session, in its community; none names who is in the session or carries anyone's words.
What members do for themselves (joining, raising a hand) and what changed nothing (starting
a live session again, letting in an empty lobby, a refused pin) leave none."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from chat.groups import lifecycle
from moderation.models import AuditEntry
from tests.chat.groups.conftest import scheduled


async def _entries(app, after: int = 0) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    async with app.state.ctx.db.read() as s:
        found = await s.exec(
            select(AuditEntry).where(col(AuditEntry.id) > after).order_by(col(AuditEntry.id))
        )
        return list(found)


async def _last_id(app) -> int:  # type: ignore[no-untyped-def]
    found = await _entries(app)
    return found[-1].id if found else 0  # type: ignore[return-value]


async def test_every_facilitator_action_writes_one_entry(app, community, people) -> None:
    lead = await people.member("Lantern", supporter=True)
    wren, robin = await people.member("Wren"), await people.member("Robin")

    mark = await _last_id(app)
    session_id = await scheduled(lead, after=timedelta(minutes=10))
    (made,) = await _entries(app, mark)
    assert (made.action, made.target_kind, made.target_id) == (
        "session_schedule",
        "group_session",
        session_id,
    )
    assert made.community_id == community.id and made.actor_name == "Lantern"

    base = f"/api/v1/sessions/{session_id}"
    steps: list[tuple[object, str, dict[str, object], str | None]] = [
        (wren, "join", {"agree": True}, None),  # a member's own doing
        (robin, "join", {"agree": True}, None),
        (lead, "admit", {"member": "Wren"}, "session_admit"),
        (lead, "admit-all", {}, "session_admit_all"),
        (lead, "admit-all", {}, None),  # nobody waiting: nothing done
        (lead, "start", {}, "session_start"),
        (lead, "start", {}, None),  # already live
        (lead, "lock", {"locked": True}, "session_lock"),
        (lead, "lock", {"locked": False}, "session_unlock"),
        (lead, "turn-taking", {"on": True}, "session_turns_on"),
        (wren, "hand", {"up": True}, None),
        (lead, "floor", {"member": "Wren"}, "session_floor"),
        (lead, "floor", {"member": ""}, "session_floor_back"),
        (lead, "turn-taking", {"on": False}, "session_turns_off"),
        (lead, "pin", {"text": "Round one: what helped?"}, "session_pin"),
        (lead, "pin", {"text": "Call me on 07700 900123"}, None),  # refused
        (lead, "pin", {"text": ""}, "session_unpin"),
        (lead, "slow-mode", {"seconds": 30}, "session_slow_mode"),
        (lead, "mute", {"member": "Robin", "muted": True}, "session_mute"),
        (lead, "mute", {"member": "Robin", "muted": False}, "session_unmute"),
        (lead, "remove", {"member": "Robin"}, "session_remove"),
        (lead, "remove", {"member": "Robin"}, None),  # already removed
        (lead, "summary", {"text": "Themes: anniversaries; walking helped."}, "session_summary"),
        (lead, "end", {}, "session_end"),
        (lead, "end", {}, None),  # already over
    ]
    public = {"session_lock", "session_unlock", "session_slow_mode", "session_mute"}
    public |= {"session_unmute", "session_remove"}
    for who, action, body, expected in steps:
        mark = await _last_id(app)
        answer = await who.post(f"{base}/{action}", json=body)  # type: ignore[attr-defined]
        assert answer.status_code == (422 if "07700" in str(body) else 200), (action, answer.text)
        written = await _entries(app, mark)
        if expected is None:
            assert written == [], (action, body, [e.action for e in written])
            continue
        assert [e.action for e in written] == [expected], (action, body)
        (entry,) = written
        assert (entry.target_kind, entry.target_id) == ("group_session", session_id)
        assert entry.community_id == community.id and entry.actor_name == "Lantern"
        assert (entry.public_summary is not None) == (expected in public), expected
        said = f"{entry.reason} {entry.public_summary or ''}"
        for private in ("Wren", "Robin", "Round one", "Themes", "07700"):
            assert private not in said, (expected, said)
    kinds = {e.action: e for e in await _entries(app)}
    assert kinds["session_admit_all"].reason == "1 let in"
    assert kinds["session_slow_mode"].reason == "30"


async def test_a_series_cancelling_and_the_sweeper_are_recorded_once(
    app, community, people
) -> None:
    lead = await people.member("Lantern", supporter=True)
    mark = await _last_id(app)
    first = await scheduled(lead, repeat="weekly", weeks=3)
    (series,) = await _entries(app, mark)
    assert (series.action, series.target_id, series.reason) == (
        "session_schedule",
        first,
        "weekly, 3 sessions",
    )

    mark = await _last_id(app)
    assert (await lead.post(f"/api/v1/sessions/{first}/cancel")).status_code == 200
    (cancelled,) = await _entries(app, mark)
    assert cancelled.action == "session_cancel"
    assert cancelled.public_summary == "A group session was cancelled"

    other = await scheduled(lead, title="Morning circle", after=timedelta(days=3))
    mark = await _last_id(app)
    await lifecycle.end(app.state.ctx, None, other)  # the sweeper ends one nobody ended
    (ended,) = await _entries(app, mark)
    assert (ended.action, ended.actor_id, ended.actor_name) == (
        "session_end",
        None,
        "Kindred (automatic)",
    )
    assert ended.reason == "nobody ended it" and ended.target_id == other
