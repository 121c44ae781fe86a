"""Reading plain HTML form posts."""

from __future__ import annotations

import uuid

from starlette.datastructures import FormData
from starlette.requests import HTTPConnection

from core.web.csrf import ISSUED


def form_text(form: FormData, name: str) -> str:
    """A text field's value ("" when missing, or when a file was sent in its place)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def submission_id(conn: HTTPConnection) -> str:
    """A fresh id for one form on this page, so that sending it again (a browser resending
    after its answer was lost, an offline outbox flushing from two tabs) is recognised as
    the same submission, never a second post (forum/threads.py).

    Like a masked CSRF token it is new on every response, so the page's ETag is taken with
    it replaced by one fixed stand-in (core/web/revalidate.py): the page still revalidates
    to a 304. A page served from cache then carries an id already used; the server tells a
    resend from new words by the words themselves."""
    value = uuid.uuid4().hex
    conn.scope.setdefault("state", {}).setdefault(ISSUED, {})[value] = "submission-id"
    return value
