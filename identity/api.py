"""The identity part of the JSON API (/api/v1): sign-up, login, logout, session."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.context import get_context
from core.errors import Refusal
from core.web.client import client_address, network_key
from core.web.csrf import csrf_token
from core.web.jsonapi import field, read_json
from identity import accounts, lifecycle, sessions, signin
from identity.auth import (
    clear_session_cookie,
    current_session,
    device_cookie,
    device_label,
    require_member,
    sessions_ended,
    set_session_cookie,
)
from identity.sessions import SignedIn


def network_of(request: Request) -> str:
    ctx = get_context(request)
    address = client_address(request.scope, request.app.state.trusted_proxies)
    return network_key(address, ctx.settings.secret_key)


def _signed_in_response(
    request: Request, signed_in: SignedIn, body: dict, want_token: bool, status: int
) -> Response:
    if want_token:
        return JSONResponse({**body, "token": signed_in.token}, status)
    response = JSONResponse(body, status)
    set_session_cookie(request, response, signed_in)
    response.headers["x-csrf-token"] = csrf_token(request)
    return response


async def signup(request: Request) -> Response:
    ctx = get_context(request)
    data = await read_json(request)
    pseudonym = field(data, "pseudonym", str)
    passphrase = field(data, "passphrase", str)
    want_token = field(data, "token", bool, default=False)
    try:
        account = await accounts.sign_up(
            ctx.db,
            ctx.settings,
            pseudonym,
            passphrase,
            kind="token" if want_token else "browser",
            label=device_label(request.headers.get("user-agent")),
            staff_names=ctx.extensions.get("staff_names", ()),
            name_checks=ctx.extensions.get("name_checks", ()),
            limits=ctx.rate_limits,
            network=network_of(request),
        )
    except Refusal as exc:
        if exc.code == "pseudonym_taken":  # names they could have instead (docs/api.md)
            exc.details["suggestions"] = await accounts.free_suggestions(ctx.db)
        raise
    body = {
        "pseudonym": account.signed_in.member.pseudonym,
        "recovery_codes": account.recovery_codes,
    }
    return _signed_in_response(request, account.signed_in, body, want_token, 201)


async def login(request: Request) -> Response:
    ctx = get_context(request)
    data = await read_json(request)
    want_token = field(data, "token", bool, default=False)
    signed_in = await signin.log_in(
        ctx.db,
        ctx.settings,
        ctx.rate_limits,
        field(data, "pseudonym", str),
        field(data, "passphrase", str),
        network=network_of(request),
        kind="token" if want_token else "browser",
        label=device_label(request.headers.get("user-agent")),
        checks=ctx.extensions.get("sign_in_checks", ()),
        device=device_cookie(request),
    )
    body = {"pseudonym": signed_in.member.pseudonym, "roles": signed_in.member.roles}
    return _signed_in_response(request, signed_in, body, want_token, 200)


async def logout(request: Request) -> Response:
    require_member(request)
    session = current_session(request)
    if session is not None:
        await sessions.end_session(get_context(request).db, session.token_hash)
        await sessions_ended(request, session.member_id, session=session.token_hash)
    response = JSONResponse({"status": "signed_out"})
    clear_session_cookie(request, response)
    response.headers["clear-site-data"] = '"cache", "cookies", "storage"'
    return response


async def session_info(request: Request) -> Response:
    member = require_member(request)
    return JSONResponse(
        {"pseudonym": member.pseudonym, "roles": member.roles, "csrf_token": csrf_token(request)}
    )


async def suggestions(request: Request) -> Response:
    return JSONResponse({"suggestions": await accounts.free_suggestions(get_context(request).db)})


async def export(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    data = await lifecycle.export_account(ctx.db, ctx.extensions["member_content"], member)
    return JSONResponse(data)


routes = [
    Route("/api/v1/signup", signup, methods=["POST"]),
    Route("/api/v1/login", login, methods=["POST"]),
    Route("/api/v1/logout", logout, methods=["POST"]),
    Route("/api/v1/session", session_info, methods=["GET"]),
    Route("/api/v1/pseudonym-suggestions", suggestions, methods=["GET"]),
    Route("/api/v1/account/export", export, methods=["GET"]),
]

# Sign-up and login start a session, so there is none yet for a token to be bound to;
# the Origin / Sec-Fetch-Site check still applies to them.
CSRF_EXEMPT = frozenset({"/api/v1/signup", "/api/v1/login"})
