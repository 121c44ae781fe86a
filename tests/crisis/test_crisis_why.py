"""The peer supporters' queue says why a post or message was flagged as crisis, and crisis
cases stay at the top of it."""

from __future__ import annotations

from sqlmodel import select

from moderation.models import ModerationCase
from tests.crisis.conftest import start_thread
from tests.helpers import api_post, establish, submit

CRISIS = "I want to die tonight, I can't keep going."


async def cases(app) -> list[ModerationCase]:
    async with app.state.ctx.db.read() as s:
        return list(await s.exec(select(ModerationCase).order_by(ModerationCase.id)))


async def test_a_crisis_post_keeps_the_reason_and_supporters_see_it(app, people) -> None:
    thread = await start_thread(people["alder"], CRISIS)
    [case] = await cases(app)
    assert case.crisis and case.crisis_why
    why = case.crisis_why
    for viewer in ("hazel", "rowan"):  # the peer supporter and the community's moderator
        page = await people[viewer].get("/moderation")
        assert page.status_code == 200
        assert "Why it was flagged" in page.text
        assert why.replace("\u201c", "").split()[0] in page.text
        items = (await people[viewer].get("/api/v1/moderation/queue")).json()["items"]
        assert [(i["target_id"], i["crisis"], i["crisis_why"]) for i in items] == [
            (thread["posts"][0]["id"], True, why)
        ]
    # The author is never told why; other members can't see the queue.
    assert why not in (await people["alder"].get(f"/t/{thread['id']}?notice=crisis")).text
    assert (await people["birch"].get("/api/v1/moderation/queue")).status_code == 403


async def test_a_crisis_reply_and_edit_record_the_reason(app, people) -> None:
    thread = await start_thread(people["alder"], "A hard week.")
    reply = await api_post(
        people["birch"], f"/api/v1/threads/{thread['id']}/posts", {"body": CRISIS}
    )
    assert reply.status_code == 201
    first = await start_thread(people["cedar"], "Still here.")
    post_id = first["posts"][0]["id"]
    changed = await people["cedar"].patch(
        f"/api/v1/posts/{post_id}",
        json={"body": CRISIS},
        headers={
            "x-csrf-token": (await people["cedar"].get("/api/v1/session")).json()["csrf_token"]
        },
    )
    assert changed.status_code == 200, changed.text
    found = await cases(app)
    assert [c.crisis for c in found] == [True, True]
    assert all(c.crisis_why for c in found)


async def test_a_crisis_chat_message_records_the_reason(app, people) -> None:
    sent = await submit(people["alder"], "/chat/recovery", "/chat/recovery", {"body": CRISIS})
    assert sent.status_code == 200 and "crisis-panel" in sent.text
    [case] = await cases(app)
    assert case.target_kind == "chat_message" and case.crisis and case.crisis_why
    page = await people["hazel"].get("/moderation")
    assert "Why it was flagged" in page.text


async def test_crisis_cases_stay_first(app, people) -> None:
    calm = await start_thread(people["alder"], "Someone was rude to me.")
    calm_id = calm["posts"][0]["id"]
    await establish(app.state.ctx, "birch", "cedar")  # a day-old account's report counts
    for name in ("birch", "cedar", "hazel"):
        reported = await api_post(
            people[name], "/api/v1/reports", {"kind": "post", "id": calm_id, "reason": "harassment"}
        )
        assert reported.status_code == 201
    crisis = await start_thread(people["birch"], CRISIS)
    items = (await people["rowan"].get("/api/v1/moderation/queue")).json()["items"]
    assert [i["target_id"] for i in items] == [crisis["posts"][0]["id"], calm_id]
    assert items[0]["crisis"] and items[0]["crisis_why"]
    assert items[1]["crisis_why"] is None and items[1]["report_weight"] >= 3
    page = (await people["rowan"].get("/moderation")).text
    assert page.index(f"#p{crisis['posts'][0]['id']}") < page.index(f"#p{calm_id}")
