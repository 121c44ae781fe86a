"""Every action on a session by name, shared by the page's plain forms (POST
/sessions/{id}/{action}) and the JSON API (POST /api/v1/sessions/{id}/{action}): one service
function each, so both answer the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from chat.groups import cofacilitators, controls, lifecycle, seats
from core.context import AppContext
from core.web.params import loose_int
from identity.models import Member

Values = Mapping[str, str]
Action = Callable[[AppContext, Member, int, Values, str | None], Awaitable[Any]]


def yes(values: Values, name: str) -> bool:
    return values.get(name, "").strip().lower() in ("yes", "true", "on", "1")


def _seconds(values: Values) -> int:
    return loose_int(values.get("seconds", ""), -1)  # the service says which are allowed


async def _rsvp(ctx: AppContext, m: Member, i: int, v: Values, r: str | None) -> None:
    await seats.rsvp(ctx.db, m, i)
    await controls.broadcast(ctx, i)


async def _cancel_rsvp(ctx: AppContext, m: Member, i: int, v: Values, r: str | None) -> None:
    await seats.cancel_rsvp(ctx.db, m, i)
    await controls.broadcast(ctx, i)


async def _join(ctx: AppContext, m: Member, i: int, v: Values, r: str | None) -> None:
    minutes = ctx.settings.session_lobby_minutes
    await seats.join(ctx.db, m, i, agreed=yes(v, "agree"), lobby_minutes=minutes)
    await controls.broadcast(ctx, i)


ACTIONS: dict[str, Action] = {
    "rsvp": _rsvp,
    "cancel-rsvp": _cancel_rsvp,
    "join": _join,
    "start": lambda ctx, m, i, v, r: lifecycle.start(ctx, m, i),
    "end": lambda ctx, m, i, v, r: lifecycle.end(ctx, m, i),
    "cancel": lambda ctx, m, i, v, r: lifecycle.cancel(ctx, m, i),
    "admit": lambda ctx, m, i, v, r: controls.admit(ctx, m, i, v.get("member", "")),
    "admit-all": lambda ctx, m, i, v, r: controls.admit_all(ctx, m, i),
    "lock": lambda ctx, m, i, v, r: controls.set_locked(ctx, m, i, yes(v, "locked")),
    "pin": lambda ctx, m, i, v, r: controls.pin(ctx, m, i, v.get("text", ""), r),
    "slow-mode": lambda ctx, m, i, v, r: controls.set_slow_mode(ctx, m, i, _seconds(v)),
    "turn-taking": lambda ctx, m, i, v, r: controls.set_turn_taking(ctx, m, i, yes(v, "on")),
    "floor": lambda ctx, m, i, v, r: controls.give_floor(ctx, m, i, v.get("member", "")),
    "hand": lambda ctx, m, i, v, r: controls.raise_hand(ctx, m, i, yes(v, "up")),
    "mute": lambda ctx, m, i, v, r: controls.set_muted(
        ctx, m, i, v.get("member", ""), yes(v, "muted")
    ),
    "remove": lambda ctx, m, i, v, r: controls.remove(ctx, m, i, v.get("member", "")),
    "summary": lambda ctx, m, i, v, r: lifecycle.save_summary(ctx, m, i, v.get("text", "")),
    "cofacilitator": lambda ctx, m, i, v, r: cofacilitators.name_cofacilitator(
        ctx, m, i, v.get("member", ""), series=yes(v, "series")
    ),
    "take-over": lambda ctx, m, i, v, r: cofacilitators.take_over(ctx, m, i),
}
