"""Care for the carers in 1:1 support, through the real app: a supporter's limits and hours
(the queue honours them, and waiting members are told honestly who is free), the break note
after a long or heavy conversation, and a debrief with a moderator after a crisis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import col, select, update

from chat.support.limits import Limits, within
from chat.support.models import SupportDebrief, SupportRequest
from communities.models import Community
from core.db import utcnow
from identity import accounts
from identity.blocks import block_member
from moderation.models import AuditEntry
from tests.chat.people import People, make_community
from tests.chat.support.conftest import ask

pytestmark = pytest.mark.usefixtures("community")

CRISIS = "I want to kill myself, I can't go on"


async def _set_limits(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    body = {"max_conversations": "2", "when": "any", "timezone": "UTC", **fields}
    return await client.post("/support/limits", data=body)


async def _talk(people: People, asker: str, supporter: httpx.AsyncClient, note: str) -> dict:
    member = await people.member(asker)
    made = (await ask(member, note)).json()
    taken = await supporter.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert taken.status_code == 200, taken.text
    return {"id": made["id"], "member": member, **taken.json()}


async def _end(people: People, found: dict, supporter: httpx.AsyncClient, minutes: int) -> None:
    """End the conversation as if it had lasted `minutes`."""
    async with people.ctx.db.transaction() as s:
        await s.exec(
            update(SupportRequest)
            .where(col(SupportRequest.id) == found["id"])
            .values(accepted_at=utcnow() - timedelta(minutes=minutes))
        )
    ended = await supporter.post(f"/api/v1/support/requests/{found['id']}/end")
    assert ended.status_code == 200, ended.text


# --------------------------------------------------------------------------- limits


async def test_only_peer_supporters_have_limits(people: People) -> None:
    member = await people.member("Wren")
    assert (await member.get("/support/limits")).status_code == 403
    assert (await _set_limits(member)).status_code == 403


async def test_limits_are_checked_and_kept_with_the_reason(people: People) -> None:
    oak = await people.member("Oak", supporter=True)
    page = await oak.get("/support/limits")
    assert page.status_code == 200
    assert 'value="2" selected' in page.text  # the default: two at once
    too_many = await _set_limits(oak, max_conversations="6")
    assert too_many.status_code == 422 and "between 1 and 5" in too_many.text
    nowhere = await _set_limits(oak, timezone="Atlantis")
    assert nowhere.status_code == 422 and "Atlantis" in nowhere.text
    no_days = await _set_limits(oak, when="hours")
    assert no_days.status_code == 422 and "at least one day" in no_days.text
    backwards = await _set_limits(oak, when="hours", day2="on", from2="20", to2="18")
    assert backwards.status_code == 422 and "Wednesday" in backwards.text
    assert 'id="f-day2" name="day2" value="on" checked' in backwards.text  # their answers kept
    saved = await _set_limits(
        oak, max_conversations="3", when="hours", timezone="london", day0="on", from0="18", to0="22"
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/support/limits?saved=1"
    again = await oak.get("/support/limits")
    assert 'value="3" selected' in again.text and 'value="Europe/London"' in again.text
    assert 'id="f-day0" name="day0" value="on" checked' in again.text
    export = await oak.get("/api/v1/account/export")
    assert '"max_conversations": 3' in export.text.replace('":3', '": 3')


def test_hours_are_on_the_supporters_own_clock() -> None:
    evenings = Limits(2, {0: (18, 22)}, "America/New_York")  # Mondays 18:00–22:00 there
    monday_night_utc = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # 18:30 in New York
    assert within(evenings, monday_night_utc)
    assert not within(evenings, datetime(2026, 12, 7, 19, 0, tzinfo=UTC))  # 14:00 there
    assert not within(evenings, datetime(2026, 12, 8, 23, 30, tzinfo=UTC))  # a Tuesday
    assert within(Limits(2, {}, "UTC"), monday_night_utc)  # no hours: any time


async def test_at_the_limit_nothing_new_is_offered_and_members_are_told(people: People) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    assert (await _set_limits(oak, max_conversations="1")).status_code == 303
    waiting = await people.member("Robin")
    made = (await ask(waiting, "Could someone talk with me?")).json()
    page = await waiting.get(f"/support/requests/{made['id']}")
    assert "One peer supporter is free for this topic right now." in page.text

    await _talk(people, "Wren", oak, "I'd like to talk about my dad")  # not Robin's
    queue = (await oak.get("/api/v1/support/queue")).json()
    assert queue["paused"] == "at_limit" and queue["count"] == 0
    shown = await oak.get("/support/queue")
    assert "Could someone talk" not in shown.text
    assert "the most you chose to take at once" in shown.text
    assert 'href="/support/limits"' in shown.text
    refused = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "at_limit"
    assert refused.json()["error"]["url"] == "/support/limits"
    # Honest to the member waiting: nobody is free now.
    page = await waiting.get(f"/support/requests/{made['id']}")
    assert "No peer supporter is free for this topic right now" in page.text

    # Raising the limit offers it again.
    assert (await _set_limits(oak, max_conversations="2")).status_code == 303
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1


async def test_outside_their_hours_nothing_is_offered(people: People) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    other_day = (datetime.now(UTC).weekday() + 3) % 7
    fields = {f"day{other_day}": "on", f"from{other_day}": "0", f"to{other_day}": "24"}
    assert (await _set_limits(oak, when="hours", **fields)).status_code == 303
    queue = (await oak.get("/api/v1/support/queue")).json()
    assert queue["paused"] == "outside_hours" and queue["count"] == 0
    assert "outside the hours you chose" in (await oak.get("/support/queue")).text
    refused = await oak.post(f"/api/v1/support/requests/{made['id']}/accept")
    assert refused.json()["error"]["code"] == "outside_hours"
    waiting = await member.get(f"/support/requests/{made['id']}")
    assert "No peer supporter is free" in waiting.text
    today = datetime.now(UTC).weekday()
    fields = {f"day{today}": "on", f"from{today}": "0", f"to{today}": "24"}
    assert (await _set_limits(oak, when="hours", **fields)).status_code == 303
    assert (await oak.get("/api/v1/support/queue")).json()["count"] == 1


async def test_only_supporters_who_would_see_it_are_counted(people: People) -> None:
    member = await people.member("Wren")
    made = (await ask(member, "I'd like to talk")).json()
    url = f"/support/requests/{made['id']}"
    await people.member("Off", supporter=True)  # not switched on
    assert "No peer supporter is free" in (await member.get(url)).text
    await people.member("Oak", supporter=True, available=True)
    await people.member("Ash", supporter=True, available=True)
    assert "2 peer supporters are free" in (await member.get(url)).text
    # Ash would never be shown a request from someone who blocked them: not counted.
    wren = await accounts.find_member(people.ctx.db, "Wren")
    assert wren is not None
    await block_member(people.ctx.db, wren, "Ash")
    assert "One peer supporter is free" in (await member.get(url)).text


# --------------------------------------------------------------------------- a break


async def test_a_long_conversation_earns_a_break_note_only_its_supporter_sees(
    people: People, community: Community
) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    short = await _talk(people, "Robin", oak, "A quick question")
    await _end(people, short, oak, minutes=10)
    assert 'id="break-note"' not in (await oak.get("/support/queue")).text

    long = await _talk(people, "Wren", oak, "I'd like to talk about my dad")
    await _end(people, long, oak, minutes=50)
    queue = await oak.get("/support/queue")
    assert 'id="break-note"' in queue.text and "That was a long conversation" in queue.text
    assert "Pause taking requests" in queue.text
    page = await oak.get(long["url"])
    assert 'id="break-note"' in page.text
    # The member never sees it; nor do moderators, anywhere.
    assert "break-note" not in (await long["member"].get(long["url"])).text
    moderator = await people.moderator("Heron", community)
    assert "break" not in (await moderator.get("/moderation/support")).text.lower()
    # Dismissed, it goes.
    gone = await oak.post(f"/support/breaks/{long['id']}/dismiss", data={"back": "queue"})
    assert gone.status_code == 303 and gone.headers["location"] == "/support/queue"
    assert 'id="break-note"' not in (await oak.get("/support/queue")).text
    # Someone else can't dismiss it for them (nothing changes).
    other = await people.member("Ash", supporter=True)
    await other.post(f"/support/breaks/{short['id']}/dismiss")
    async with people.ctx.db.read() as s:
        assert (await s.get(SupportRequest, short["id"])).supporter_rested is False  # type: ignore[union-attr]


async def test_a_crisis_conversation_earns_a_break_note_however_short(people: People) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    heavy = await _talk(people, "Wren", oak, CRISIS)
    await _end(people, heavy, oak, minutes=5)
    queue = await oak.get("/support/queue")
    assert "That was a heavy conversation" in queue.text


# --------------------------------------------------------------------------- a debrief


async def test_a_debrief_after_a_crisis_reaches_the_communitys_moderators(
    people: People, community: Community
) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    heavy = await _talk(people, "Wren", oak, CRISIS)
    page = await oak.get(heavy["url"])
    assert "Ask for a debrief" not in page.text  # not until it has ended
    await _end(people, heavy, oak, minutes=20)
    page = await oak.get(heavy["url"])
    assert "Ask for a debrief" in page.text
    assert "Ask for a debrief" not in (await heavy["member"].get(heavy["url"])).text

    # A note with contact details is refused, the text given back.
    refused = await oak.post(
        f"/support/conversations/{heavy['room']}/debrief", data={"note": "ring me 07700 900123"}
    )
    assert refused.status_code == 422 and "07700 900123</textarea>" in refused.text
    asked = await oak.post(
        f"/support/conversations/{heavy['room']}/debrief", data={"note": "Shaken, could use a chat"}
    )
    assert asked.status_code == 303
    page = await oak.get(heavy["url"])
    assert "You asked for a debrief" in page.text and "Ask for a debrief" not in page.text

    # Moderators of the community see it, with the note and nothing from the conversation.
    heron = await people.moderator("Heron", community)
    listed = await heron.get("/moderation/support/debriefs")
    assert listed.status_code == 200
    assert "Oak" in listed.text and "Shaken, could use a chat" in listed.text
    assert "kill myself" not in listed.text
    assert "1 waiting" in (await heron.get("/moderation/support")).text
    # Nobody else does: members, supporters, another community's moderators.
    assert (await heavy["member"].get("/moderation/support/debriefs")).status_code == 403
    elsewhere = await make_community(people.ctx, slug="carers", name="Carers")
    kite = await people.moderator("Kite", elsewhere)
    assert "Shaken" not in (await kite.get("/moderation/support/debriefs")).text
    async with people.ctx.db.read() as s:
        debrief = (await s.exec(select(SupportDebrief))).one()
    assert (await kite.post(f"/moderation/support/debriefs/{debrief.id}/take")).status_code == 404

    # Taken, then done: each audited; the supporter sees who took it.
    taken = await heron.post(f"/moderation/support/debriefs/{debrief.id}/take")
    assert taken.status_code == 303
    assert "Heron, a moderator, has taken your debrief" in (await oak.get(heavy["url"])).text
    again = await heron.post(f"/moderation/support/debriefs/{debrief.id}/take")
    assert again.status_code == 409 and "already" in again.text
    done = await heron.post(f"/moderation/support/debriefs/{debrief.id}/done")
    assert done.status_code == 303
    assert "Your debrief is marked done" in (await oak.get(heavy["url"])).text
    async with people.ctx.db.read() as s:
        actions = list(
            await s.exec(
                select(AuditEntry.action, AuditEntry.actor_name).where(
                    col(AuditEntry.target_kind) == "support_debrief"
                )
            )
        )
    assert ("ask_debrief", "Oak") in actions
    assert ("take_debrief", "Heron") in actions and ("finish_debrief", "Heron") in actions


async def test_no_debrief_for_a_conversation_that_was_not_flagged(people: People) -> None:
    oak = await people.member("Oak", supporter=True, available=True)
    calm = await _talk(people, "Wren", oak, "I'd like to talk about my dad")
    await _end(people, calm, oak, minutes=20)
    assert "Ask for a debrief" not in (await oak.get(calm["url"])).text
    refused = await oak.post(f"/support/conversations/{calm['room']}/debrief", data={"note": ""})
    assert refused.status_code == 409 and "flagged as crisis" in refused.text
    # The member who asked can't ask for one about their own conversation.
    mine = await calm["member"].post(f"/support/conversations/{calm['room']}/debrief")
    assert mine.status_code == 404


async def test_a_crisis_card_in_a_conversation_says_whose_helplines_and_sends_nowhere_else(
    people: People,
) -> None:
    """Crisis words in a 1:1 conversation get the forum's card, with the member's country's
    helplines named, but no 'Talk to a peer supporter here': they are talking to one."""
    oak = await people.member("Oak", supporter=True, available=True)
    found = await _talk(people, "Wren", oak, "A rough week.")
    sent = await found["member"].post(
        f"/support/conversations/{found['room']}",
        data={"body": "I want to die tonight"},
        headers={"accept-language": "en-GB"},
    )
    panel = re.search(r'<section class="crisis-panel[^"]*".*?</section>', sent.text, re.S)
    assert panel, sent.text[:300]
    assert "Samaritans" in panel.group() and "Helplines for the United Kingdom." in panel.group()
    assert "Talk to a peer supporter here" not in panel.group()
