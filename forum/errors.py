"""The forum's one error type: a code and a message written for the member."""

from __future__ import annotations


class ForumError(Exception):
    def __init__(
        self, code: str, message: str, *, status: int = 422, field: str | None = None, **extra
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.extra = extra


def not_found(what: str = "post") -> ForumError:
    return ForumError("not_found", f"That {what} doesn't exist, or you can't see it.", status=404)
