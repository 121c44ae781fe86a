"""Every payload of the shared XSS corpus, posted as a thread title and body and as a reply,
comes back in the served page with nothing that could run script (judged by parsing)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import skip_or_fail
from tests.helpers import api_post
from tests.moderation.test_xss_corpus import CORPUS, PAYLOADS
from tests.moderation.xss_oracle import assert_script_free, script_problems

# Our own page chrome has forms and buttons; everything else the oracle forbids must not
# appear anywhere in a page.
CHROME = {"forbidden element <form>", "forbidden element <button>", "forbidden element <input>"}


def assert_page_script_free(html: str) -> None:
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    problems = [p for p in script_problems(main) if p not in CHROME]
    assert not problems, problems
    # Member HTML sits in post bodies, which may hold no form element at all. Bodies cannot
    # contain a <div>, so the first </div> closes each one.
    for body in re.findall(r'<div class="post-body">(.*?)</div>', main, flags=re.S):
        assert_script_free(body)


async def test_corpus_through_forum_pages(alice, bob, app) -> None:
    if not PAYLOADS:
        skip_or_fail(f"XSS corpus not found at {CORPUS}")
    app.state.ctx.rate_limits.enabled = False
    thread = await api_post(
        alice, "/api/v1/communities/grief/threads", {"title": "Corpus", "body": "start"}
    )
    thread_id = thread.json()["id"]
    refused = 0
    for payload in PAYLOADS:
        response = await api_post(bob, f"/api/v1/threads/{thread_id}/posts", {"body": payload})
        assert response.status_code in (201, 202, 422), payload
        refused += response.status_code == 422
        titled = await api_post(
            alice, "/api/v1/communities/grief/threads", {"title": payload[:200] or "x", "body": "b"}
        )
        assert titled.status_code in (201, 202, 422), payload
    assert refused < len(PAYLOADS) // 4  # most payloads are published as harmless text
    after = 0
    while True:
        page = await bob.get(f"/t/{thread_id}?after={after}")
        assert_page_script_free(page.text)
        nxt = re.search(r'\?after=(\d+)" rel="next"', page.text)
        if not nxt:
            break
        after = int(nxt.group(1))
    listing = await bob.get("/c/grief")
    assert_page_script_free(listing.text)


@pytest.mark.parametrize("q", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
async def test_search_query_is_escaped(client, community, q: str) -> None:
    page = await client.get("/search", params={"q": q})
    assert_page_script_free(page.text)
