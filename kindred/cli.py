"""`kindred …`: serve, migrate, create-admin, seed-demo, remove-demo, check.

Misconfiguration ends in one line that says what to change and a non-zero exit, never a
traceback wall.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from core.errors import Refusal
from core.logs import configure_logging, own_address
from core.settings import ConfigError, Settings, env_name, listens_everywhere, server_url

log = logging.getLogger("kindred")


class CliError(Exception):
    """A one-line explanation for the operator."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_format, settings.log_level)
        return args.run(settings, args)
    except (CliError, ConfigError) as exc:
        print(f"kindred: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kindred", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    def command(name: str, run: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    serve = command("serve", cmd_serve, "Run the web server (migrates the embedded database).")
    serve.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true", help="Restart on code changes (dev).")
    serve.add_argument(
        "--demo", action="store_true", help="Seed the demo (communities, threads) if empty."
    )
    command("migrate", cmd_migrate, "Bring the database schema up to date.")
    admin = command("create-admin", cmd_create_admin, "Create a site admin (or promote one).")
    admin.add_argument("pseudonym")
    admin.add_argument(
        "--passphrase-stdin", action="store_true", help="Read the passphrase from standard input."
    )
    command(
        "seed-demo",
        cmd_seed_demo,
        "Add the demo communities, sessions and threads (only those missing).",
    )
    command(
        "remove-demo",
        cmd_remove_demo,
        "Delete the demo members, their threads and replies (nothing else).",
    )
    command("check", cmd_check, "Show effective settings (secrets masked) and test connections.")
    backup = command("backup", cmd_backup, "Back up the embedded database to PATH.")
    backup.add_argument("path", type=Path)
    restore = command("restore", cmd_restore, "Replace the embedded database with a backup.")
    restore.add_argument("path", type=Path)
    restore.add_argument("--yes", action="store_true", help="Confirm replacing the database.")
    return parser


def _prepare_database(settings: Settings) -> None:
    from kindred.migrate import pending, upgrade

    if settings.uses_embedded_database:
        _ensure_data_dir(settings)
        upgrade(settings.effective_database_url)
        return
    try:
        behind = pending(settings.effective_database_url)
    except Exception as exc:
        raise CliError(f"cannot reach the database: {_one_line(exc)}") from None
    if behind:
        raise CliError("the database schema is out of date: run `kindred migrate` first")


def _ensure_data_dir(settings: Settings) -> None:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CliError(
            f"the data directory {settings.data_dir} is not writable ({exc.strerror}); "
            "set KINDRED_DATA_DIR to a writable directory"
        ) from None


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from chat.runtime import TRANSPORT_MAX_BYTES

    if args.workers > 1 and not settings.redis_url:
        raise CliError(
            "--workers above 1 needs KINDRED_REDIS_URL: chat rooms, presence and rate limits "
            "must be shared between worker processes"
        )
    if args.workers > 1 and settings.uses_embedded_database:
        raise CliError("--workers above 1 needs PostgreSQL (KINDRED_DATABASE_URL)")
    settings.with_secret()  # create the key once, before workers race to
    _prepare_database(settings)
    if args.demo:
        cmd_seed_demo(settings, args, only_if_empty=True)
    settings = _site_url_follows(settings, args.host, args.port)
    uvicorn.run(
        "kindred.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        # Measured against uvicorn's legacy "websockets" protocol (300 clients x 100 messages,
        # loopback): ~16k vs ~13.5k deliveries/s, and the legacy one is deprecated.
        ws="websockets-sansio",
        ws_max_size=TRANSPORT_MAX_BYTES,  # chat answers past 16 KiB (too_long), then 1009
        ws_ping_interval=30,  # keeps carriers' and routers' NAT entries alive …
        ws_ping_timeout=20,  # … and notices a dead peer within a minute
        # Compression runs once per frame *per member* (each connection has its own zlib
        # context), while the frame is encoded once per room: see docs/performance.md.
        ws_per_message_deflate=settings.ws_deflate == "on",
        # SIGTERM: stop accepting, close chat sockets with 1012 (uvicorn does), let requests
        # in flight finish, but never wait on a stuck client longer than this.
        timeout_graceful_shutdown=settings.shutdown_timeout,
        access_log=False,  # ours leaves out addresses
        log_config=None,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For is handled by KINDRED_TRUSTED_PROXIES
    )
    return 0


def _site_url_follows(settings: Settings, host: str, port: int) -> Settings:
    """Unless KINDRED_SITE_URL is set, the site URL is where this server listens, so that
    `PORT=8931 make run` works: the origin checks of chat, previews and facilitators compare
    against it. Set, it wins: it is the address members open (a proxy's, say)."""
    if os.environ.get(env_name("site_url"), "").strip():
        log.info(
            "open Kindred at %s (KINDRED_SITE_URL)",
            settings.site_url,
            extra=own_address(settings.site_url),
        )
        return settings
    url = server_url(host, port)
    # The app factory reads its settings from the environment, here and in every worker.
    os.environ[env_name("site_url")] = url
    log.info("open Kindred at %s", url, extra=own_address(url))
    if listens_everywhere(host):
        log.warning(
            "listening on every address, but the site URL is %s: a browser on another "
            "machine is refused chat and previews until KINDRED_SITE_URL is the address "
            "it opens",
            url,
            extra=own_address(url),
        )
    return dataclasses.replace(settings, site_url=url).validated()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from kindred.migrate import upgrade

    if settings.uses_embedded_database:
        _ensure_data_dir(settings)
    try:
        upgrade(settings.effective_database_url)
    except Exception as exc:
        raise CliError(f"migration failed: {_one_line(exc)}") from None
    print("database is up to date")
    return 0


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import Database
    from identity import accounts, sessions

    _prepare_database(settings)
    if args.passphrase_stdin:
        passphrase = sys.stdin.readline().rstrip("\n")
    else:
        passphrase = getpass.getpass("Passphrase for the new admin: ")
    settings = settings.with_secret()

    async def run() -> int:
        db = Database(settings.effective_database_url)
        try:
            if await accounts.find_member(db, args.pseudonym):
                await accounts.set_roles(db, args.pseudonym, admin=True)
                print(f"{args.pseudonym} is now an admin (their passphrase is unchanged)")
                return 0
            account = await accounts.sign_up(
                db, settings, args.pseudonym, passphrase, is_admin=True, label="created by CLI"
            )
            await sessions.revoke_all_sessions(db, account.signed_in.member)
        except Refusal as exc:
            raise CliError(exc.message) from None
        finally:
            await db.close()
        print(f"admin {args.pseudonym} created. Recovery codes (shown once):")
        print("\n".join(f"  {code}" for code in account.recovery_codes))
        return 0

    return asyncio.run(run())


def cmd_seed_demo(
    settings: Settings, args: argparse.Namespace, *, only_if_empty: bool = False
) -> int:
    from kindred.app import create_app
    from kindred.demo import DemoError, Seeded, seed_demo, seed_threads, seeding_settings

    _prepare_database(settings)

    async def run() -> int:
        # The app's own context, so that demo threads are vetted as members' posts are.
        ctx = create_app(seeding_settings(settings)).state.ctx
        seeded = Seeded()
        try:
            added = await seed_demo(ctx.db, only_if_empty=only_if_empty)
            if added or not only_if_empty:
                seeded = await seed_threads(ctx)
        except DemoError as exc:
            raise CliError(str(exc)) from None
        finally:
            await ctx.db.close()
        if added:
            print(f"demo: added {', '.join(added)}")
        if seeded.threads:
            print(
                f"demo: added {seeded.threads} threads and {seeded.replies} replies by demo "
                "members (`kindred remove-demo` deletes them)"
            )
        return 0

    return asyncio.run(run())


def cmd_remove_demo(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import Database
    from kindred.demo import remove_demo

    _prepare_database(settings)

    async def run() -> int:
        db = Database(settings.effective_database_url)
        try:
            removed = await remove_demo(db)
        finally:
            await db.close()
        print(
            f"demo: removed {removed.threads} threads ({removed.posts} posts) and "
            f"{removed.members} demo members"
        )
        if removed.kept:
            print(
                f"demo: kept {removed.kept} demo threads that members have replied to, with "
                "their demo authors (a moderator can remove them)"
            )
        return 0

    return asyncio.run(run())


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from kindred.health import check_services

    width = max(len(name) for name, _, _ in settings.describe())
    for name, value, _help in settings.describe():
        print(f"{name:<{width}}  {value or '(not set)'}")
    print(f"{'database (effective)':<{width}}  {_masked_url(settings.effective_database_url)}")
    problems = asyncio.run(check_services(settings))
    for service_name, problem in problems.items():
        print(f"{service_name:<{width}}  {'ok' if problem is None else 'FAILED: ' + problem}")
    return 1 if any(problems.values()) else 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from kindred.backup import BackupError, backup, progress_bar

    if not settings.uses_embedded_database:
        raise CliError("on PostgreSQL, back up with pg_dump (see docs/deploy.md)")
    try:
        backup(settings.data_dir / "kindred.db", args.path, progress_bar())
    except (BackupError, OSError, sqlite3.Error) as exc:
        raise CliError(f"backup failed: {exc}") from None
    print(f"backed up to {args.path}")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from kindred.backup import BackupError, restore
    from kindred.migrate import head_revision

    if not settings.uses_embedded_database:
        raise CliError("on PostgreSQL, restore with pg_restore (see docs/deploy.md)")
    head = head_revision(settings.effective_database_url)
    try:
        restore(args.path, settings.data_dir / "kindred.db", head, confirmed=args.yes)
    except (BackupError, OSError, sqlite3.Error) as exc:
        raise CliError(f"restore failed: {exc}") from None
    print(f"restored {args.path}")
    return 0


def _masked_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return url.replace(parts.password, "****") if parts.password else url


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


if __name__ == "__main__":
    raise SystemExit(main())
