"""Proving who you are: signing in with a passphrase, or back in with a recovery code.

Every attempt is counted before it is checked (per account, or per known device, and per
network: the `login_*` and `recover_*` limits), so many sent at once can't slip past; an
unknown name costs as much time as a wrong passphrase and gets the same answer. Once the
passphrase or code has proved who is asking, the checks kindred.app passes in (a site-wide
ban) may still say no. Changing a passphrase and replacing recovery codes need the current
passphrase, and a new passphrase ends every session. The codes themselves are made in recovery.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import delete, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database, utcnow
from core.errors import Refusal
from core.i18n import N_, ngettext
from core.i18n import gettext as _
from core.ratelimit import RateLimits
from core.settings import Settings
from identity.accounts import find_member, member_named
from identity.devices import known_device
from identity.hashing import hash_passphrase, needs_rehash, verify_passphrase
from identity.models import Member, MemberSession, RecoveryCode
from identity.names import pseudonym_key
from identity.passphrases import PassphraseError, check_passphrase, normalise_passphrase
from identity.recovery import generate_recovery_codes, hash_recovery_code
from identity.sessions import SignedIn, new_session

# Asked once a passphrase or recovery code has proved who is signing in: why this member may
# not sign in now (a site-wide ban: moderation decides, kindred.app passes the check in), or
# None. Identity knows nothing of sanctions, so it asks.
SignInCheck = Callable[[AsyncSession, int], Awaitable[str | None]]

INVALID_CREDENTIALS = N_(
    "That pseudonym and passphrase don't match an account. Check both and try again — "
    "or use a recovery code if you've forgotten your passphrase."
)


async def _refuse_if_barred(s: AsyncSession, member_id: int, checks: Sequence[SignInCheck]) -> None:
    for check in checks:
        if reason := await check(s, member_id):
            raise Refusal("banned", reason, status=403)


async def log_in(
    db: Database,
    settings: Settings,
    limits: RateLimits,
    pseudonym: str,
    passphrase: str,
    *,
    network: str,
    kind: str = "browser",
    label: str = "",
    checks: Sequence[SignInCheck] = (),
    device: str | None = None,
) -> SignedIn:
    async with db.read() as s:
        member = await member_named(s, pseudonym)
    counter = _counter(settings, "login", pseudonym, member, device)
    # Every attempt is counted before the passphrase is checked, in one atomic step per
    # counter: counted only after a failure, many attempts sent at once all passed the check
    # before any of them was counted. A success clears the count it was counted in.
    blocked = await limits.hit(*counter) or await limits.hit("login_network", network)
    if blocked:
        raise Refusal(
            "rate_limited",
            ngettext(
                "Too many sign-in attempts. Please try again in %(num)d minute.",
                "Too many sign-in attempts. Please try again in %(num)d minutes.",
                blocked.minutes,
            )
            % {"num": blocked.minutes},
            status=429,
            retry_after=blocked.retry_after,
        )
    # Unknown names are verified against a dummy hash: same answer, similar time.
    if not await verify_passphrase(
        member.passphrase_hash if member else None, normalise_passphrase(passphrase)
    ):
        raise Refusal("invalid_credentials", _(INVALID_CREDENTIALS), status=401)
    assert member is not None and member.passphrase_hash is not None
    await limits.clear(*counter)
    rehash = (
        await hash_passphrase(normalise_passphrase(passphrase))
        if needs_rehash(member.passphrase_hash)
        else None
    )
    async with db.transaction() as s:
        await _refuse_if_barred(s, member.id, checks)  # type: ignore[arg-type]
        if rehash:
            await s.exec(
                update(Member).where(Member.id == member.id).values(passphrase_hash=rehash)
            )
        token, session = new_session(member, settings, kind, label)
        s.add(session)
    return SignedIn(member, token, session)


def _member_key(pseudonym: str) -> str:
    """The rate-limit key for attempts against one account (whether or not it exists)."""
    return "m:" + pseudonym_key(pseudonym.strip())[:64]


def _counter(
    settings: Settings, kind: str, pseudonym: str, member: Member | None, device: str | None
) -> tuple[str, str]:
    """The count a sign-in or recovery attempt (`kind`) against an account goes in. From a
    device the member has signed in from before (`device`: its known-device token) it is the
    device's own, so strangers guessing at the pseudonym can't lock the member out of their
    own phone; otherwise the account's, shared. (Per network too, either way.)"""
    key = _member_key(pseudonym)
    nonce = None
    if member is not None and device:
        nonce = known_device(settings.secret_key, member.id, device)  # type: ignore[arg-type]
    return (f"{kind}_device", f"{key}:{nonce}") if nonce else (f"{kind}_member", key)


async def require_passphrase(member: Member, passphrase: str) -> None:
    """The member's current passphrase, asked again before a change that can't be undone."""
    if not await verify_passphrase(member.passphrase_hash, normalise_passphrase(passphrase)):
        raise Refusal(
            "wrong_passphrase",
            _("That isn't your current passphrase. Check it and try again."),
            field="current_passphrase",
            status=403,
        )


async def change_passphrase(
    db: Database,
    settings: Settings,
    member: Member,
    current: str,
    new: str,
    *,
    kind: str = "browser",
    label: str = "",
) -> SignedIn:
    """Set a new passphrase; every session ends and a fresh one starts for this client."""
    await require_passphrase(member, current)
    try:
        check_passphrase(new, member.pseudonym)
    except PassphraseError as exc:
        raise Refusal(exc.code, exc.message, field="new_passphrase") from None
    hashed = await hash_passphrase(normalise_passphrase(new))
    return await _replace_passphrase(db, settings, member, hashed, kind=kind, label=label)


async def _replace_passphrase(
    db: Database, settings: Settings, member: Member, hashed: str, *, kind: str, label: str
) -> SignedIn:
    async with db.transaction() as s:
        await s.exec(update(Member).where(Member.id == member.id).values(passphrase_hash=hashed))
        await s.exec(delete(MemberSession).where(MemberSession.member_id == member.id))
        token, session = new_session(member, settings, kind, label)
        s.add(session)
    member.passphrase_hash = hashed
    return SignedIn(member, token, session)


async def recover_account(
    db: Database,
    settings: Settings,
    limits: RateLimits,
    pseudonym: str,
    code: str,
    new_passphrase: str,
    *,
    network: str,
    label: str = "",
    checks: Sequence[SignInCheck] = (),
    device: str | None = None,
) -> SignedIn:
    """Reset a forgotten passphrase with a one-time recovery code (kept unused when `checks`
    refuse the member)."""
    # Counted before the code is checked (see log_in), per network and per account (or, from
    # the member's own device, per device): guesses spread over many networks against one
    # member are stopped too.
    known = await find_member(db, pseudonym) if device else None
    counter = _counter(settings, "recover", pseudonym, known, device)
    blocked = await limits.hit("recover_network", network) or await limits.hit(*counter)
    if blocked:
        raise Refusal(
            "rate_limited",
            ngettext(
                "Too many recovery attempts. Please try again in %(num)d minute.",
                "Too many recovery attempts. Please try again in %(num)d minutes.",
                blocked.minutes,
            )
            % {"num": blocked.minutes},
            status=429,
            retry_after=blocked.retry_after,
        )
    try:
        check_passphrase(new_passphrase, pseudonym)
    except PassphraseError as exc:
        raise Refusal(exc.code, exc.message, field="new_passphrase") from None
    hashed = await hash_passphrase(normalise_passphrase(new_passphrase))
    async with db.transaction() as s:
        member = await member_named(s, pseudonym)
        used = None
        if member is not None:
            used = await s.exec(
                update(RecoveryCode)
                .where(
                    RecoveryCode.member_id == member.id,
                    RecoveryCode.code_hash == hash_recovery_code(code),
                    RecoveryCode.used_at.is_(None),
                )
                .values(used_at=utcnow())
            )
            if used.rowcount == 1:
                await _refuse_if_barred(s, member.id, checks)  # type: ignore[arg-type]
    if member is None or used is None or used.rowcount != 1:
        raise Refusal(
            "invalid_recovery_code",
            _(
                "That pseudonym and recovery code don't match, or the code was already used. "
                "Each code works once; try another of yours."
            ),
            status=401,
        )
    await limits.clear(*counter)
    return await _replace_passphrase(db, settings, member, hashed, kind="browser", label=label)


async def remaining_recovery_codes(db: Database, member: Member) -> int:
    async with db.read() as s:
        count = await s.exec(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None))
        )
        return int(count.one())


async def new_recovery_codes(db: Database, member: Member, passphrase: str) -> list[str]:
    """Replace all recovery codes (the old ones stop working)."""
    await require_passphrase(member, passphrase)
    codes = generate_recovery_codes()
    async with db.transaction() as s:
        await s.exec(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
        s.add_all(
            RecoveryCode(member_id=member.id, code_hash=hash_recovery_code(c))  # type: ignore[arg-type]
            for c in codes
        )
    return codes
