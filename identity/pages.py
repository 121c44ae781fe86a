"""Identity pages: sign up, sign in and out, recovery, and the member's own account page.

Every form works without JavaScript. On an error the form comes back with the member's
input kept (never the passphrase) and a message beside the field that needs attention.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from core.context import get_context
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from core.web.cookies import cookie_options
from core.web.errors import form_errors
from core.web.forms import form_text
from identity import accounts, blocks, country, language, lifecycle, sessions, signin
from identity.api import network_of
from identity.auth import (
    clear_session_cookie,
    current_member,
    current_session,
    device_cookie,
    device_label,
    enter_session,
    require_member,
    sessions_ended,
    set_session_cookie,
)
from identity.models import Member

# Marked here, translated where the account page shows one (account_page).
DONE_MESSAGES = {
    "passphrase": N_("Your passphrase is changed. Every other session has been signed out."),
    "revoked": N_("That session is signed out."),
    "others": N_("All your other sessions are signed out."),
    "blocked": N_("Blocked. You won't see what they write under their name any more."),
    "unblocked": N_("Unblocked."),
    "country": N_("Saved. Helplines will be for the country you chose."),
    "country_cleared": N_("Saved. Helplines will follow your browser's language again."),
}


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return get_context(request).templates.TemplateResponse(
        request, template, context, status_code=status
    )


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


async def signup_page(request: Request) -> Response:
    ctx = get_context(request)
    if request.method == "GET":
        return render(
            request,
            "identity/signup.html",
            {
                "values": {"pseudonym": request.query_params.get("pseudonym", "")[:32]},
                "errors": {},
                "suggestions": await accounts.free_suggestions(ctx.db),
            },
        )
    form = await request.form()
    values = {"pseudonym": form_text(form, "pseudonym")}
    passphrase = form_text(form, "passphrase")

    async def again(errors: dict[str, str], status: int) -> Response:
        suggestions = await accounts.free_suggestions(ctx.db)
        return render(
            request,
            "identity/signup.html",
            {"values": values, "errors": errors, "suggestions": suggestions},
            status,
        )

    if passphrase != form_text(form, "passphrase_confirm"):
        return await again(
            {"passphrase_confirm": _("The two passphrases are different. Type them again.")}, 422
        )
    try:
        account = await accounts.sign_up(
            ctx.db,
            ctx.settings,
            values["pseudonym"],
            passphrase,
            label=device_label(request.headers.get("user-agent")),
            staff_names=ctx.extensions.get("staff_names", ()),
            name_checks=ctx.extensions.get("name_checks", ()),
            limits=ctx.rate_limits,
            network=network_of(request),
        )
    except Refusal as exc:
        return await again(form_errors(exc), exc.status)
    enter_session(request, account.signed_in)
    response = render(
        request,
        "identity/recovery_codes.html",
        {"codes": account.recovery_codes, "new_account": True},
        201,
    )
    set_session_cookie(request, response, account.signed_in)
    return response


async def login_page(request: Request) -> Response:
    ctx = get_context(request)
    next_url = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if current_member(request):
            return RedirectResponse(next_url, 303)
        return render(
            request, "identity/login.html", {"values": {}, "errors": {}, "next": next_url}
        )
    form = await request.form()
    next_url = safe_next(form_text(form, "next") or next_url)
    values = {"pseudonym": form_text(form, "pseudonym")}
    try:
        signed_in = await signin.log_in(
            ctx.db,
            ctx.settings,
            ctx.rate_limits,
            values["pseudonym"],
            form_text(form, "passphrase"),
            network=network_of(request),
            label=device_label(request.headers.get("user-agent")),
            checks=ctx.extensions.get("sign_in_checks", ()),
            device=device_cookie(request),
        )
    except Refusal as exc:
        errors = form_errors(exc, fields=())  # never which of the two was wrong
        context = {"values": values, "errors": errors, "next": next_url}
        return render(request, "identity/login.html", context, exc.status)
    response = RedirectResponse(next_url, 303)
    set_session_cookie(request, response, signed_in)
    return response


async def logout(request: Request) -> Response:
    session = current_session(request)
    if session is not None:
        await sessions.end_session(get_context(request).db, session.token_hash)
        await sessions_ended(request, session.member_id, session=session.token_hash)
    response = RedirectResponse("/?signed_out=1", 303)
    clear_session_cookie(request, response)
    # Wipe what this browser kept of the member's visit: caches, cookies, local storage.
    response.headers["clear-site-data"] = '"cache", "cookies", "storage"'
    return response


async def account_page(request: Request, **extra: Any) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    context = {
        "sessions": await sessions.list_sessions(ctx.db, member),
        "this_session": current_session(request),
        "codes_left": await signin.remaining_recovery_codes(ctx.db, member),
        "blocked": await blocks.blocked_members(ctx.db, member),
        "countries": country.choices(),
        "done": _(done) if done else None,
        "errors": {},
        "values": {},
    }
    status = extra.pop("status", 200)
    context.update(extra)
    return render(request, "identity/account.html", context, status)


async def revoke_session(request: Request) -> Response:
    member = require_member(request)
    session_id = request.path_params["session_id"]
    if ended := await sessions.revoke_session(get_context(request).db, member, session_id):
        await sessions_ended(request, member.id, session=ended)  # type: ignore[arg-type]
    this = current_session(request)
    if this is not None and this.id == session_id:
        return await logout(request)
    return RedirectResponse("/account?done=revoked", 303)


async def revoke_sessions(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    this = current_session(request)
    if form_text(form, "scope") == "everywhere" or this is None:
        await sessions.revoke_all_sessions(get_context(request).db, member)
        await sessions_ended(request, member.id)  # type: ignore[arg-type]
        return await logout(request)
    await sessions.revoke_all_sessions(get_context(request).db, member, keep=this.id)
    await sessions_ended(request, member.id, keep=this.token_hash)  # type: ignore[arg-type]
    return RedirectResponse("/account?done=others", 303)


async def change_passphrase(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    form = await request.form()
    new = form_text(form, "new_passphrase")
    if new != form_text(form, "new_passphrase_confirm"):
        errors = {"new_passphrase_confirm": _("The two new passphrases are different.")}
        return await account_page(request, errors=errors, status=422)
    try:
        signed_in = await signin.change_passphrase(
            ctx.db,
            ctx.settings,
            member,
            form_text(form, "current_passphrase"),
            new,
            label=device_label(request.headers.get("user-agent")),
        )
    except Refusal as exc:
        return await account_page(request, status=exc.status, errors=form_errors(exc))
    # Every sign-in ended with the old passphrase: so do their chat connections (the new
    # one has none yet).
    await sessions_ended(request, member.id)  # type: ignore[arg-type]
    response = RedirectResponse("/account?done=passphrase", 303)
    set_session_cookie(request, response, signed_in)
    return response


async def recovery_codes(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    try:
        codes = await signin.new_recovery_codes(
            get_context(request).db, member, form_text(form, "passphrase")
        )
    except Refusal as exc:
        errors = {"codes_passphrase": exc.message}
        return await account_page(request, errors=errors, status=exc.status)
    return render(request, "identity/recovery_codes.html", {"codes": codes, "new_account": False})


async def export(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    data = await lifecycle.export_account(ctx.db, ctx.extensions["member_content"], member)
    filename = quote(f"kindred-{member.pseudonym}.json")
    return JSONResponse(
        data, headers={"content-disposition": f"attachment; filename*=UTF-8''{filename}"}
    )


async def delete_page(request: Request) -> Response:
    member = require_member(request)
    ctx = get_context(request)
    if request.method == "GET":
        return render(request, "identity/delete.html", {"errors": {}, "values": {}})
    form = await request.form()
    choice = form_text(form, "content")
    values = {"content": choice}
    errors: dict[str, str] = {}
    if choice not in ("erase", "keep"):
        errors["content"] = _("Choose what should happen to what you wrote.")
    if form_text(form, "confirm") != "yes":
        errors["confirm"] = _("Tick the box to confirm you want to delete your account.")
    if not errors:
        try:
            await lifecycle.delete_account(
                ctx.db,
                ctx.extensions["member_content"],
                member,
                form_text(form, "passphrase"),
                erase=choice == "erase",
            )
        except Refusal as exc:
            errors = form_errors(exc)
    if errors:
        return render(request, "identity/delete.html", {"errors": errors, "values": values}, 422)
    await sessions_ended(request, member.id)  # type: ignore[arg-type]
    response = render(request, "identity/deleted.html", {"erased": choice == "erase"})
    clear_session_cookie(request, response)
    response.headers["clear-site-data"] = '"cache", "cookies", "storage"'
    return response


async def recover_page(request: Request) -> Response:
    ctx = get_context(request)
    if request.method == "GET":
        return render(request, "identity/recover.html", {"errors": {}, "values": {}})
    form = await request.form()
    values = {"pseudonym": form_text(form, "pseudonym")}
    new = form_text(form, "new_passphrase")
    if new != form_text(form, "new_passphrase_confirm"):
        errors = {"new_passphrase_confirm": _("The two new passphrases are different.")}
        return render(request, "identity/recover.html", {"errors": errors, "values": values}, 422)
    try:
        signed_in = await signin.recover_account(
            ctx.db,
            ctx.settings,
            ctx.rate_limits,
            values["pseudonym"],
            form_text(form, "recovery_code"),
            new,
            network=network_of(request),
            label=device_label(request.headers.get("user-agent")),
            checks=ctx.extensions.get("sign_in_checks", ()),
            device=device_cookie(request),
        )
    except Refusal as exc:
        context = {"values": values, "errors": form_errors(exc)}
        return render(request, "identity/recover.html", context, exc.status)
    await sessions_ended(request, signed_in.member.id)  # type: ignore[arg-type]
    response = RedirectResponse("/account?done=passphrase", 303)
    set_session_cookie(request, response, signed_in)
    return response


async def set_country(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    try:
        chosen = await country.set_country(
            get_context(request).db, member, form_text(form, "country")
        )
    except Refusal as exc:
        return await account_page(request, status=exc.status, errors=form_errors(exc))
    return RedirectResponse(f"/account?done={'country' if chosen else 'country_cleared'}", 303)


async def language_page(request: Request) -> Response:
    """Choose the language Kindred is shown in: a member's is kept on their account, a
    visitor's in a cookie. Each choice is named in its own language, so a person who landed
    in one they can't read still finds theirs."""
    ctx = get_context(request)
    back = safe_next(request.query_params.get("next"))
    if request.method == "POST":
        form = await request.form()
        code = form_text(form, "language")
        back = safe_next(form_text(form, "next"))
        member = current_member(request)
        if code and code not in language.offered(ctx.settings):
            return RedirectResponse("/language", 303)  # an old or altered form: ask again
        response = RedirectResponse(back, 303)
        if member is not None:
            await language.set_language(ctx.db, ctx.settings, member, code)
        elif code:
            response.set_cookie(
                language.LANGUAGE_COOKIE,
                code,
                max_age=365 * 86400,
                **cookie_options(ctx.settings),  # type: ignore[arg-type]
            )
        else:
            response.delete_cookie(language.LANGUAGE_COOKIE, path="/")
        return response
    member = current_member(request)
    chosen = member.language if member else request.cookies.get(language.LANGUAGE_COOKIE)
    return render(
        request,
        "identity/language.html",
        {
            "languages": language.offered(ctx.settings),
            "chosen": chosen if chosen in language.offered(ctx.settings) else "",
            "next": back,
        },
    )


async def block(request: Request) -> Response:
    member = require_member(request)
    form = await request.form()
    try:
        await blocks.block_member(get_context(request).db, member, form_text(form, "block"))
    except Refusal as exc:  # no such member (404), yourself or an admin (422)
        return await account_page(
            request,
            errors={"block": exc.message},
            values={"block": form_text(form, "block")},
            status=exc.status,
        )
    await _blocks_changed(request, member)
    return RedirectResponse("/account?done=blocked", 303)


async def unblock(request: Request) -> Response:
    member = require_member(request)
    await blocks.unblock_member(get_context(request).db, member, request.path_params["member_id"])
    await _blocks_changed(request, member)
    return RedirectResponse("/account?done=unblocked", 303)


async def _blocks_changed(request: Request, member: Member) -> None:
    """Tell the parts that filter by blocks (chat's open connections) at once."""
    for listener in get_context(request).extensions.get("block_listeners", ()):
        await listener(member.id)


routes = [
    Route("/signup", signup_page, methods=["GET", "POST"]),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/recover", recover_page, methods=["GET", "POST"]),
    Route("/account", account_page, methods=["GET"]),
    Route("/account/sessions/{session_id:int}/revoke", revoke_session, methods=["POST"]),
    Route("/account/sessions/revoke", revoke_sessions, methods=["POST"]),
    Route("/account/passphrase", change_passphrase, methods=["POST"]),
    Route("/account/recovery-codes", recovery_codes, methods=["POST"]),
    Route("/account/export", export, methods=["GET"]),
    Route("/account/delete", delete_page, methods=["GET", "POST"]),
    Route("/account/country", set_country, methods=["POST"]),
    Route("/language", language_page, methods=["GET", "POST"]),
    Route("/account/blocks", block, methods=["POST"]),
    Route("/account/blocks/{member_id:int}/remove", unblock, methods=["POST"]),
]
