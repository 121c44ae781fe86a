"""A refused pin, summary or message, sent from the plain forms, comes back into its own box
with the reason beside it, whatever code the refusal carries (a filter's, too_long,
summary_names_someone): the page routes the draft by the form it came from, never by code."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.chat.groups.conftest import scheduled
from tests.helpers import form_token


def _boxes(page: str) -> dict[str, str]:
    """What each box on the session page holds."""
    pin = re.search(r'<input id="pin-text" [^>]*value="([^"]*)"', page)
    summary = re.search(r'<textarea id="summary-text"[^>]*>(.*?)</textarea>', page, re.S)
    message = re.search(r'<textarea id="chat-body"[^>]*>(.*?)</textarea>', page, re.S)
    found = {"pin": pin, "summary": summary, "message": message}
    return {name: html.unescape(m.group(1)) if m else "" for name, m in found.items()}


def _told(page: str, box_id: str) -> str:
    found = re.search(
        rf'<div class="notice notice-error" role="alert" id="{box_id}"(.*?)</div>', page, re.S
    )
    assert found is not None, box_id
    return "" if found.group(1).lstrip().startswith("hidden") else found.group(1)


async def test_each_refusal_comes_back_into_its_own_box(app, community, people) -> None:
    lead = await people.member("Lantern", supporter=True)
    wren = await people.member("Wren")
    session_id = await scheduled(lead, after=timedelta(minutes=10))
    base = f"/api/v1/sessions/{session_id}"
    await wren.post(f"{base}/join", json={"agree": True})
    await lead.post(f"{base}/admit", json={"member": "Wren"})
    await lead.post(f"{base}/start")
    token = form_token((await lead.get(f"/sessions/{session_id}")).text)

    async def post(who, action: str, **data: str) -> str:  # type: ignore[no-untyped-def]
        answer = await who.post(
            f"/sessions/{session_id}/{action}", data={"csrf_token": token, **data}
        )
        assert answer.status_code >= 400, (action, answer.status_code)
        return answer.text

    pinned = await post(lead, "pin", text="Call me on 07700 900123")  # a filter's code
    assert _boxes(pinned) == {"pin": "Call me on 07700 900123", "summary": "", "message": ""}
    assert "contact details" in _told(pinned, "controls-error") and not _told(pinned, "chat-error")
    long_pin = "A round about small mercies. " * 20  # past the pin's 500 characters
    pinned = await post(lead, "pin", text=long_pin)
    assert _boxes(pinned)["pin"] == long_pin and _told(pinned, "controls-error")
    assert 'id="pin-text" name="text" maxlength' not in pinned  # nothing cut in the browser

    for text, reason in (
        ("Wren spoke about her mother.", "must name nobody"),  # summary_names_someone
        ("Someone shared call 07700 900123", "contact details"),  # the filter's code
        ("x" * 4001, "4,000 characters"),  # too_long
    ):
        page = await post(lead, "summary", text=text)
        assert _boxes(page) == {"pin": "", "summary": text, "message": ""}, reason
        assert reason in _told(page, "controls-error") and not _told(page, "chat-error")

    await lead.post(f"{base}/turn-taking", json={"on": True})
    wren_token = form_token((await wren.get(f"/sessions/{session_id}")).text)
    refused = await wren.post(
        f"/sessions/{session_id}/send",
        data={"csrf_token": wren_token, "body": "Can I say something?"},
    )
    assert refused.status_code >= 400
    assert _boxes(refused.text)["message"] == "Can I say something?"
    assert "not your turn" in _told(refused.text, "chat-error")
