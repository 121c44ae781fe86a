"""Fixtures the security tests share with the chat tests (tests/chat/conftest.py), defined
there once: `live_settings` (many members sign up from 127.0.0.1 in one test, which the
per-network limit would stop) and `live`, a real uvicorn server on them."""

from tests.chat.conftest import live, live_settings

__all__ = ["live", "live_settings"]
