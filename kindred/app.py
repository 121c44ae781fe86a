"""create_app(settings): the one place where Kindred's parts are put together."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette_compress import CompressMiddleware

from chat import pages as chat_pages
from chat import runtime as chat_runtime
from chat import thanks_pages as chat_thanks_pages
from chat import ws as chat_ws
from chat.events import blocks_changed, sessions_ended, tell_member
from chat.frames import error_frame
from chat.gates import CLOSE_GONE
from chat.groups import setup as groups_setup
from chat.groups.sanctions import release_seats
from chat.lifecycle import erase_messages, export_messages
from chat.moderation_target import ChatMessageTarget
from chat.rooms import ensure_room
from chat.support import setup as support_setup
from communities.models import Community
from communities.thanks import erase_thanks, export_thanks, forget_received_thanks
from core import i18n
from core.broker import make_broker
from core.context import AppContext
from core.db import Database
from core.errors import Refusal
from core.i18n import gettext
from core.logs import configure_logging
from core.ratelimit import RateLimits
from core.settings import Settings
from core.web.accesslog import AccessLogMiddleware
from core.web.bodylimit import BodySizeLimitMiddleware
from core.web.client import parse_networks
from core.web.csrf import CSRFMiddleware
from core.web.errors import (
    EXCEPTION_HANDLERS,
    draft_of,
    error_response,
    refusal_response,
    wants_json,
)
from core.web.frames import DirectFramesMiddleware
from core.web.headers import SecurityHeadersMiddleware
from core.web.outage import HANDLED as DATABASE_ERRORS
from core.web.outage import DatabaseOutageMiddleware, database_error
from core.web.params import check_routes
from core.web.revalidate import RevalidateMiddleware
from core.web.static import StaticAssets
from core.web.templates import STATIC_DIR, make_templates
from forum import api as forum_api
from forum import been_there, been_there_pages, resource_pages
from forum import member_pages as forum_member_pages
from forum import pages as forum_pages
from forum import thanks_pages as forum_thanks_pages
from forum.lifecycle import erase_content, export_content, forget_member
from forum.moderation_target import PostTarget
from forum.resource_target import ResourceSuggestionTarget
from forum.resources import export_suggestions, forget_suggestions
from identity import api as identity_api
from identity import pages as identity_pages
from identity.auth import MemberSessionMiddleware, SignInRequired
from identity.hashing import warm_up as warm_up_hashing
from identity.language import LanguageMiddleware
from identity.lifecycle import MemberContentHooks
from kindred import hope_pages, offline, pages, thanks_pages
from kindred.health import readyz
from kindred.metrics import Metrics, MetricsMiddleware
from kindred.stopping import first_on_sigterm
from moderation import checkin_pages, help_page
from moderation import pages as moderation_pages
from moderation import web_api as moderation_api
from moderation.api import PSEUDONYM, Place, moderator_pseudonyms, standing, vet
from moderation.api import warm_up as warm_up_filters
from moderation.checkins import close_requests_about, erase_asks, export_asks
from moderation.policy_cache import PolicyFollower
from moderation.targets import ModerationRegistry
from moderation.thanks import ThanksTarget

log = logging.getLogger("kindred")


def create_app(settings: Settings) -> Starlette:
    settings = settings.with_secret()
    ctx = AppContext(
        settings=settings,
        db=Database(settings.effective_database_url),
        rate_limits=RateLimits(settings.rate_limits, settings.redis_url, settings.secret_key),
        templates=make_templates({"site_name": "Kindred"}),
        broker=make_broker(settings.redis_url),
    )
    ctx.extensions["member_content"] = hooks = MemberContentHooks()
    hooks.register("forum", export_content, erase_content, forget_member)
    hooks.register("thanks", export_thanks, erase_thanks, forget_received_thanks)
    # Experiences and "open to being asked" go with the account, erased or not.
    hooks.register(
        "been_there", been_there.export_mine, been_there.forget_mine, been_there.forget_mine
    )
    # Directory suggestions still waiting or declined go with the account, erased or not.
    hooks.register(
        "resource_suggestions", export_suggestions, forget_suggestions, forget_suggestions
    )
    ctx.extensions["moderation"] = moderation = ModerationRegistry()
    moderation.register(PostTarget())
    moderation.register(ChatMessageTarget(ctx))
    moderation.register(ThanksTarget())  # held thank-you notes (moderation/thanks.py)
    moderation.register(ResourceSuggestionTarget())  # a suggestion in crisis words

    async def tell_chat(member_id: int, kind: str, reason: str, community_id: int | None) -> None:
        # A sanction reaches the member's open chat connections at once, on every worker:
        # a mute or suspension turns them read-only (each send is refused), in the rooms of
        # the sanction's community when it has one; a site-wide ban ended every sign-in, so
        # it closes them (4003, don't reconnect).
        if kind not in ("mute", "suspend", "ban"):
            return
        everywhere = kind == "ban" and community_id is None
        code = "muted" if kind == "mute" else "banned" if everywhere else "suspended"
        words = {"mute": "muted in chat", "suspend": "suspended", "ban": "banned"}[kind]
        message = f"A moderator has {words} you" + (f": {reason}" if reason else ".")
        await tell_member(
            ctx.broker,
            member_id,
            error_frame(Refusal(code, message)),
            community_id=community_id,
            close=CLOSE_GONE if everywhere else None,
            mute=kind == "mute",  # not in a 1:1 support conversation: a mute stops no one there
        )

    moderation.sanction_listeners.append(tell_chat)

    async def close_chat(member_id: int, *, session: str | None, keep: str | None) -> None:
        await sessions_ended(ctx.broker, member_id, session=session, keep=keep)

    # Signing out (this session, others, everywhere; a new passphrase; a deleted account)
    # closes the chat connections those sign-ins opened, on every worker (identity/auth.py).
    ctx.extensions["session_end_listeners"] = [close_chat]

    async def not_banned(s: AsyncSession, member_id: int) -> str | None:
        if (await standing(s, member_id)).banned:  # site-wide bans only
            return "This account has been banned from Kindred, so it can't be signed in to."
        return None

    ctx.extensions["sign_in_checks"] = [not_banned]
    # Community moderators are staff too: no new pseudonym may pass for one (identity/names.py).
    ctx.extensions["staff_names"] = [moderator_pseudonyms]

    async def vetted_name(name: str) -> None:
        # A pseudonym is a profile field, vetted like every member's words: no phone number
        # or handle in it. Only the verdict counts; identity keeps the name as it chose it.
        verdict = await vet(ctx, None, Place(PSEUDONYM, None), name)
        if verdict.refused:
            raise verdict.refusal()

    ctx.extensions["name_checks"] = [vetted_name]

    async def reload_chat_blocks(member_id: int) -> None:
        await blocks_changed(ctx.broker, member_id)

    ctx.extensions["block_listeners"] = [reload_chat_blocks]
    hooks.register("chat", export_messages, erase_messages)
    hooks.register("check_ins_asked", export_asks, erase_asks, close_requests_about)
    chat = chat_runtime.install(ctx)
    groups = groups_setup.install(ctx)  # live group sessions
    # A suspension or a ban frees the member's seats in group sessions (chat/groups/sanctions.py).
    moderation.sanction_listeners.append(functools.partial(release_seats, ctx))
    support = support_setup.install(ctx)  # 1:1 support requests

    async def open_community_room(community: Community) -> None:
        # Every community has its own chat room (chat and forum never import each other).
        await ensure_room(
            ctx.db,
            slug=community.slug,
            name=community.name,
            description=community.description,
            community_id=community.id,
            members_only=community.members_only,
        )

    ctx.extensions["community_created"] = open_community_room

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not ctx.rate_limits.enabled:
            log.warning(
                "RATE LIMITS ARE OFF (KINDRED_RATE_LIMITS=off): for load tests on a private "
                "machine only; never run a public site like this"
            )
        warm_up_hashing()
        warm_up_filters()  # before the first member: no first-message stall
        static_assets.warm()  # minified and compressed once (core/web/static.py)
        i18n.warm_up(i18n.offered(pseudo=settings.pseudo_locales == "on").values())
        await ctx.broker.start()
        await policies.start()  # other workers' policy changes (moderation/policy_cache.py)
        await chat.start()
        await groups.start()
        await support.start()
        loop_watch = asyncio.create_task(metrics.watch_loop(), name="event-loop lag")
        stopping = ctx.extensions["stopping"] = asyncio.Event()

        async def before_stop() -> None:
            stopping.set()  # long-lived streams (chat/support/live.py) end now, not at the timeout
            await chat.restarting()

        try:
            # SIGTERM: chat closes its sockets with a reason before uvicorn closes them.
            with first_on_sigterm(before_stop):
                yield
        finally:
            loop_watch.cancel()
            await support.close()
            await groups.close()
            await chat.close()
            await policies.close()
            await ctx.broker.close()
            await ctx.db.close()

    metrics = Metrics()
    policies = PolicyFollower(ctx)
    static_assets = StaticAssets(STATIC_DIR)
    metrics.watch(ctx.db, chat.hub)
    routes = [
        *pages.routes,
        *offline.routes,
        *identity_pages.routes,
        *identity_api.routes,
        *forum_pages.routes,
        *forum_thanks_pages.routes,
        *thanks_pages.routes,
        *hope_pages.routes,
        *forum_member_pages.routes,
        *resource_pages.routes,
        *been_there_pages.routes,
        *forum_api.routes,
        *moderation_pages.routes,
        *moderation_api.routes,
        *help_page.routes,
        *checkin_pages.routes,
        *chat_pages.routes,
        *chat_thanks_pages.routes,
        *chat_ws.routes,
        *groups.routes,
        *support.routes,
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *([metrics.route(settings.metrics_token)] if settings.metrics_token else []),
        static_assets.route(),
    ]
    check_routes(routes)  # every id in a path is bounded (core/web/params.py)
    middleware = [
        Middleware(DirectFramesMiddleware),  # outermost: chat frames skip the rest
        # brotli where the client offers it, else gzip (zstd left off: brotli is what the
        # slow-link budgets in docs/performance.md are measured with)
        Middleware(CompressMiddleware, minimum_size=512, zstd=False),
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(AccessLogMiddleware),
        Middleware(SecurityHeadersMiddleware, settings=settings),
        Middleware(RevalidateMiddleware),
        # A first choice of language from the visitor's cookie and browser, for what is
        # answered before the member is known (an outage, a body too large, a stale form);
        # the second one below decides again with the member's own setting.
        Middleware(LanguageMiddleware, settings=settings, first_guess=True),
        Middleware(DatabaseOutageMiddleware),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        Middleware(CSRFMiddleware, settings=settings, exempt_paths=identity_api.CSRF_EXEMPT),
        Middleware(MemberSessionMiddleware, ctx=ctx),
        Middleware(LanguageMiddleware, settings=settings),  # needs the member
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            **EXCEPTION_HANDLERS,
            SignInRequired: sign_in_required,
            Refusal: refusal_or_sign_in,
            # An unreachable database answers 503 + Retry-After; SQL bugs stay 500s.
            **dict.fromkeys(DATABASE_ERRORS, database_error),
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.metrics = metrics
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.csrf_refusal = csrf_refusal
    app.state.too_large_refusal = too_large_refusal
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` and `kindred serve`: settings from the environment."""
    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)


async def healthz(request: Request) -> Response:
    try:
        await request.app.state.ctx.db.ping()
    except Exception:
        return PlainTextResponse("database unreachable", 503, headers={"retry-after": "5"})
    return PlainTextResponse("ok")


async def sign_in_required(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        return JSONResponse(
            {"error": {"code": "not_signed_in", "message": "Sign in to do this."}}, 401
        )
    if request.method == "GET":
        return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)
    # A post from someone whose session has ended: don't redirect their writing away.
    draft = draft_of(await request.form())
    message = (
        "Your session has ended, so this wasn't sent. Sign in again, then send it once more"
        + (" — your text is below." if draft else ".")
    )
    return error_response(request, 401, "not_signed_in", message, draft=draft)


async def refusal_or_sign_in(request: Request, exc: Exception) -> Response:
    # A refusal that asks a reader to sign in (a members-only community) takes a browser to
    # the sign-in page, as SignInRequired does; JSON clients get the refusal itself.
    assert isinstance(exc, Refusal)
    if exc.status == 401 and not wants_json(request):
        return await sign_in_required(request, exc)
    return refusal_response(request, exc)


async def csrf_refusal(
    conn: HTTPConnection, code: str, detail: str, fields: dict[str, str]
) -> Response:
    if code == "cross_site":
        message = gettext(
            "This request came from another site, so it was refused to protect your account."
        )
        return error_response(conn, 403, code, message)
    draft = draft_of(fields)
    message = (
        gettext(
            "This form had expired or was missing its security token (you may have signed in "
            "or out in another tab), so it wasn't sent. Reload the page and send it again — "
            "your text is below."
        )
        if draft
        else gettext(
            "This form had expired or was missing its security token (you may have signed in "
            "or out in another tab), so it wasn't sent. Reload the page and send it again."
        )
    )
    return error_response(conn, 403, code, message, draft=draft)


async def too_large_refusal(conn: HTTPConnection, max_bytes: int) -> Response:
    message = gettext("That was larger than the %(size)d KiB we accept.") % {
        "size": max_bytes // 1024
    }
    return error_response(conn, 413, "too_large", message)
