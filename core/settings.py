"""Settings: every one declared once, with its environment variable, default and help.

Values come from ``KINDRED_*`` environment variables. Nothing is read at import time:
``Settings.from_env()`` is called by the composition root (``kindred.app``) or the CLI.
One setting has a value per action: KINDRED_RATE_LIMITS overrides the limits declared in
``DEFAULT_LIMITS`` here, and is parsed here, so a bad value stops the server at start;
core/ratelimit.py only counts.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem, parse


class ConfigError(Exception):
    """A setting is unusable; the message is one line an operator can act on."""


def setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret})


# Every limited action, with its default: what KINDRED_RATE_LIMITS="action=N/period;..."
# may override (core/ratelimit.py counts them).
DEFAULT_LIMITS: dict[str, str] = {
    # Sign-in and recovery attempts are counted before they are checked, so that many sent
    # at once can't slip past; a success clears the account's count (identity/signin.py).
    "login_member": "10/15minutes",  # sign-in attempts against one pseudonym
    # … and from one device its member signed in from before (identity/devices.py): counted
    # instead of login_member, so strangers' guesses can't lock a member out of their phone.
    "login_device": "10/15minutes",
    "login_network": "30/15minutes",  # sign-in attempts from one client network
    "signup_network": "10/hour",  # accounts created from one client network
    "recover_network": "10/hour",  # recovery-code attempts from one client network
    "recover_member": "10/hour",  # recovery-code attempts against one pseudonym
    "recover_device": "10/hour",  # … from one device its member signed in from (as login_device)
    "post": "30/10minutes",  # forum threads and replies by one member
    "report": "20/hour",  # reports filed by one member
    "preview": "60/minute",  # pipeline previews from one client network (CPU work)
    "chat_send": "20/30seconds",  # chat messages by one member (bursts of 20)
    "support_request": "5/hour",  # 1:1 support requests made by one member
    "check_in": "5/day",  # "ask a peer supporter to check on someone", by one member
    "thanks": "20/hour",  # private thank-yous sent by one member
}


def parse_limits(spec: str) -> tuple[bool, dict[str, RateLimitItem]]:
    """Parse KINDRED_RATE_LIMITS: 'on', 'off', or 'action=limit;action=limit'."""
    spec = spec.strip()
    if spec.lower() == "off":
        return False, {}
    chosen = dict(DEFAULT_LIMITS)
    if spec.lower() not in ("", "on"):
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            action, _, value = part.partition("=")
            action = action.strip()
            if action not in DEFAULT_LIMITS or not value:
                known = ", ".join(sorted(DEFAULT_LIMITS))
                raise ConfigError(
                    f"KINDRED_RATE_LIMITS: unknown action or missing limit in {part!r} "
                    f"(actions: {known})"
                )
            chosen[action] = value.strip()
    try:
        return True, {action: parse(value) for action, value in chosen.items()}
    except ValueError as exc:
        raise ConfigError(f"KINDRED_RATE_LIMITS: {exc}") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(
        Path("data"), "Where the embedded database and the generated secret key live."
    )
    database_url: str = setting(
        "",
        "Database URL. Empty: an SQLite file in the data directory (WAL mode). "
        "PostgreSQL: postgresql://user@host/db (driven by asyncpg).",
        secret=True,
    )
    redis_url: str = setting(
        "", "Redis URL for chat fan-out, presence and shared rate limits (optional).", secret=True
    )
    secret_key: str = setting(
        "",
        "Key for signing CSRF tokens and keyed hashes. Empty: generated once and kept in "
        "<data dir>/secret_key with 0600 permissions.",
        secret=True,
    )
    site_url: str = setting(
        "http://127.0.0.1:8000",
        "The public origin members use; CSRF and WebSocket origin checks compare against it. "
        "Unset: the address `kindred serve` listens on (--host, --port).",
    )
    allowed_origins: tuple[str, ...] = setting(
        (), "Extra origins (comma-separated) accepted besides the site URL's."
    )
    secure_cookies: str = setting(
        "auto",
        "auto | on | off. auto: Secure, __Host- prefixed cookies whenever the site URL is https.",
    )
    trusted_proxies: tuple[str, ...] = setting(
        (),
        "Addresses or networks (comma-separated) of reverse proxies whose X-Forwarded-For "
        "is believed. Empty: the header is ignored.",
    )
    rate_limits: str = setting(
        "on",
        "on | off | per-action overrides such as 'login_member=5/15minutes;chat_send=20/30seconds'."
        " off is for load tests on a private machine only.",
    )
    session_idle_minutes: int = setting(
        3 * 24 * 60,
        "A session unused for this long ends (minutes); what a member sends in chat counts as use.",
    )
    session_max_days: int = setting(30, "A session ends this many days after sign-in, used or not.")
    max_body_bytes: int = setting(1024 * 1024, "Largest request body accepted (bytes); over: 413.")
    new_member_posts: int = setting(
        2, "A member's first N posts in each community are held for a moderator (0: off)."
    )
    link_posts: int = setting(
        3, "Links are refused until a member has N published posts and a day-old account (0: off)."
    )
    session_lobby_minutes: int = setting(
        15, "A live group session's lobby opens this many minutes before it starts."
    )
    session_grace_minutes: int = setting(
        10, "A group session's messages are deleted this many minutes after it ends (0: at once)."
    )
    support_wait_minutes: int = setting(
        10, "After this many minutes unanswered, a 1:1 support request shows other help."
    )
    support_keep_days: int = setting(
        30,
        "A 1:1 support conversation's messages are deleted this many days after it ends "
        "(0: at once), unless a moderation case about one of them is still open.",
    )
    ws_deflate: str = setting(
        "off",
        "on | off. on: chat WebSockets accept permessage-deflate when the browser asks: about "
        "half the bytes for members on slow or metered links, for ~30% more server CPU per "
        "frame and ~40 KB more memory per connection (docs/performance.md).",
    )
    shutdown_timeout: int = setting(
        10,
        "Seconds a stopping server (SIGTERM) gives requests in flight to finish before "
        "cancelling them. Chat connections are closed at once with code 1012 (clients resume).",
    )
    log_format: str = setting("text", "text | json (one JSON object a line).")
    log_level: str = setting("info", "debug | info | warning | error.")
    pseudo_locales: str = setting(
        "off",
        "on | off. on: the language choice also offers ar-XB, the English texts right to "
        "left, for seeing and testing right-to-left layout (development and tests only).",
    )
    metrics_token: str = setting(
        "",
        "Bearer token that /metrics (Prometheus text format) answers. Empty: no /metrics.",
        secret=True,
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(env_name(f.name))
            if raw is not None and raw.strip() != "":
                values[f.name] = _parse(f, raw.strip())
        values.update(overrides)
        return cls(**values).validated()

    def validated(self) -> Settings:
        site = urlsplit(self.site_url)
        if site.scheme not in ("http", "https") or not site.netloc:
            raise ConfigError(
                f"KINDRED_SITE_URL must be an http(s) origin such as https://kindred.example, "
                f"not {self.site_url!r}"
            )
        if self.secure_cookies not in ("auto", "on", "off"):
            raise ConfigError("KINDRED_SECURE_COOKIES must be auto, on or off")
        if self.ws_deflate not in ("on", "off"):
            raise ConfigError("KINDRED_WS_DEFLATE must be on or off")
        if self.pseudo_locales not in ("on", "off"):
            raise ConfigError("KINDRED_PSEUDO_LOCALES must be on or off")
        if self.log_format not in ("text", "json"):
            raise ConfigError("KINDRED_LOG_FORMAT must be text or json")
        parse_limits(self.rate_limits)
        if self.new_member_posts < 0 or self.link_posts < 0:
            raise ConfigError("KINDRED_NEW_MEMBER_POSTS and KINDRED_LINK_POSTS can't be negative")
        for name in ("session_lobby_minutes", "session_grace_minutes", "support_wait_minutes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{env_name(name)} can't be negative")
        if self.support_keep_days < 0:
            raise ConfigError("KINDRED_SUPPORT_KEEP_DAYS can't be negative")
        if self.shutdown_timeout < 0:
            raise ConfigError("KINDRED_SHUTDOWN_TIMEOUT can't be negative")
        for name in ("session_idle_minutes", "session_max_days", "max_body_bytes"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{env_name(name)} must be a positive number")
        return self

    # Derived values -------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        site = urlsplit(self.site_url)
        return f"{site.scheme}://{site.netloc}".lower()

    @property
    def origins(self) -> frozenset[str]:
        return frozenset({self.origin, *(o.rstrip("/").lower() for o in self.allowed_origins)})

    @property
    def https(self) -> bool:
        return self.secure_cookies == "on" or (
            self.secure_cookies == "auto" and self.origin.startswith("https:")
        )

    @property
    def effective_database_url(self) -> str:
        url = self.database_url or f"sqlite:///{(self.data_dir / 'kindred.db').resolve()}"
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url.removeprefix(plain)
        return url

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url

    def with_secret(self) -> Settings:
        """Return settings whose secret key is set, generating and keeping one if needed."""
        if self.secret_key:
            return self
        return dataclasses.replace(self, secret_key=load_or_create_secret(self.data_dir))

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, effective value with secrets masked, help) for `kindred check` and docs."""
        rows = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            shown = ",".join(value) if isinstance(value, tuple) else str(value)
            if f.metadata["secret"] and shown:
                shown = _mask(shown)
            rows.append((env_name(f.name), shown, f.metadata["help"]))
        return rows


def server_url(host: str, port: int) -> str:
    """The site URL of `kindred serve --host HOST --port PORT` when KINDRED_SITE_URL is unset:
    the address a browser on this machine opens. A wildcard host listens on every address;
    a browser here reaches it at the loopback one, which is what gets printed to open."""
    host = host.strip().strip("[]")
    if listens_everywhere(host):
        host = "::1" if ":" in host else "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listens_everywhere(host: str) -> bool:
    """Whether `--host` is a wildcard (0.0.0.0, ::): every address of the machine."""
    try:
        return ipaddress.ip_address(host.strip().strip("[]") or "0.0.0.0").is_unspecified  # noqa: S104
    except ValueError:
        return False  # a name


def env_name(field_name: str) -> str:
    return "KINDRED_" + field_name.upper()


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "int":
            return int(raw)
        if kind == "Path":
            return Path(raw)
        if kind.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{env_name(f.name)} must be a whole number, not {raw!r}") from None
    return raw


def _mask(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme and parts.password:
        return value.replace(parts.password, "****")
    if parts.scheme:
        return value
    return "****"


def load_or_create_secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        # O_EXCL so two workers starting together cannot both write; 0600 so only we can read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")
        return key
    except FileExistsError:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot keep the secret key in {data_dir}: {exc.strerror}. "
            "Make the data directory writable or set KINDRED_SECRET_KEY."
        ) from None
