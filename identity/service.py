"""Accounts, sessions and recovery: the rules, with no knowledge of HTTP.

Pages, the JSON API and the chat endpoint all call these functions. Errors are
`Refusal`s with a code and a message written for the member.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database, refuses_writes, utcnow
from core.errors import Refusal
from core.ratelimit import RateLimits
from core.settings import Settings
from identity.country import valid_country
from identity.devices import known_device
from identity.hashing import hash_passphrase, needs_rehash, verify_passphrase
from identity.lifecycle import MemberContentHooks
from identity.models import DELETED_NAME, Member, MemberBlock, MemberSession, RecoveryCode
from identity.names import (
    PseudonymError,
    check_pseudonym,
    lookalike_key,
    pseudonym_key,
    suggest_pseudonyms,
)
from identity.passphrases import PassphraseError, check_passphrase, normalise_passphrase
from identity.recovery import generate_recovery_codes, hash_recovery_code

# Refresh a session's last-seen time at most this often, so reads don't all become writes.
TOUCH_EVERY = timedelta(minutes=1)

# Asked once a passphrase or recovery code has proved who is signing in: why this member may
# not sign in now (a site-wide ban: moderation decides, kindred.app passes the check in), or
# None. Identity knows nothing of sanctions, so it asks.
SignInCheck = Callable[[AsyncSession, int], Awaitable[str | None]]


async def _refuse_if_barred(s: AsyncSession, member_id: int, checks: Sequence[SignInCheck]) -> None:
    for check in checks:
        if reason := await check(s, member_id):
            raise Refusal("banned", reason, status=403)


INVALID_CREDENTIALS = (
    "That pseudonym and passphrase don't match an account. Check both and try again — "
    "or use a recovery code if you've forgotten your passphrase."
)


@dataclass(frozen=True)
class SignedIn:
    member: Member
    token: str  # the raw session token: goes to the client once, never stored
    session: MemberSession


@dataclass(frozen=True)
class NewAccount:
    signed_in: SignedIn
    recovery_codes: list[str]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_session(member: Member, settings: Settings, kind: str, label: str) -> tuple[str, Any]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session = MemberSession(
        member_id=member.id,  # type: ignore[arg-type]
        token_hash=token_hash(token),
        kind=kind,
        label=label[:64],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_max_days),
    )
    return token, session


# Asked for the pseudonyms of staff that identity doesn't know as staff: community
# moderators, whom moderation appoints (kindred.app passes the provider in, as it does the
# sign-in checks). No new pseudonym may read as a staff member's, with numbers or separators
# added either (identity/names.py).
StaffNames = Callable[[AsyncSession], Awaitable[Iterable[str]]]


async def staff_pseudonyms(s: AsyncSession, providers: Sequence[StaffNames] = ()) -> list[str]:
    """Admins and peer supporters, and whoever the providers name."""
    rows = await s.exec(
        select(Member.pseudonym).where(
            or_(Member.is_admin, Member.is_peer_supporter), Member.deleted_at.is_(None)
        )
    )
    names = list(rows)
    for provider in providers:
        names.extend(await provider(s))
    return names


async def free_suggestions(db: Database, n: int = 3) -> list[str]:
    candidates = suggest_pseudonyms(n * 2)
    async with db.read() as s:
        taken = set(
            await s.exec(
                select(Member.pseudonym_skeleton).where(
                    Member.pseudonym_skeleton.in_([lookalike_key(c) for c in candidates])  # type: ignore[union-attr]
                )
            )
        )
    return [c for c in candidates if lookalike_key(c) not in taken][:n]


async def sign_up(
    db: Database,
    settings: Settings,
    pseudonym: str,
    passphrase: str,
    *,
    kind: str = "browser",
    label: str = "",
    is_admin: bool = False,
    staff_names: Sequence[StaffNames] = (),
) -> NewAccount:
    async with db.read() as s:
        staff = await staff_pseudonyms(s, staff_names)
    try:
        name = check_pseudonym(pseudonym, staff)
    except PseudonymError as exc:
        # Staff created by an operator may carry staff words; that is what they are for.
        if not (is_admin and exc.code in ("reserved", "impersonation")):
            raise Refusal(exc.code, exc.message, field="pseudonym") from None
        name = pseudonym.strip()
    try:
        check_passphrase(passphrase, name)
    except PassphraseError as exc:
        raise Refusal(exc.code, exc.message, field="passphrase") from None
    hashed = await hash_passphrase(normalise_passphrase(passphrase))
    codes = generate_recovery_codes()
    try:
        async with db.transaction() as s:
            if await _find_member(s, name) is not None or await _looks_taken(s, name):
                raise _taken()
            member = Member(
                pseudonym=name,
                pseudonym_key=pseudonym_key(name),
                pseudonym_skeleton=lookalike_key(name),
                passphrase_hash=hashed,
            )
            member.is_admin = is_admin
            s.add(member)
            await s.flush()
            s.add_all(
                RecoveryCode(member_id=member.id, code_hash=hash_recovery_code(c))  # type: ignore[arg-type]
                for c in codes
            )
            token, session = _new_session(member, settings, kind, label)
            s.add(session)
    except IntegrityError:
        raise _taken() from None  # a simultaneous sign-up took the name first
    return NewAccount(SignedIn(member, token, session), codes)


def _taken() -> Refusal:
    return Refusal(
        "pseudonym_taken",
        "That pseudonym is already taken, or looks too much like one that is (names are the "
        "same whatever their capitals, and look-alikes such as R0wan for Rowan count too). "
        "Try one of the suggestions or add something of your own.",
        field="pseudonym",
        status=409,
    )


async def _looks_taken(s: AsyncSession, name: str) -> bool:
    """Does a member's name read the same as this one ("R0wan", "Rowan", "rowan_")? So that
    members can't pass for each other."""
    found = await s.exec(
        select(Member.id).where(
            Member.pseudonym_skeleton == lookalike_key(name), Member.deleted_at.is_(None)
        )
    )
    return found.first() is not None


async def _find_member(s: AsyncSession, pseudonym: str) -> Member | None:
    result = await s.exec(
        select(Member).where(
            Member.pseudonym_key == pseudonym_key(pseudonym.strip()), Member.deleted_at.is_(None)
        )
    )
    return result.first()


async def find_member(db: Database, pseudonym: str) -> Member | None:
    async with db.read() as s:
        return await _find_member(s, pseudonym)


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
        member = await _find_member(s, pseudonym)
    counter = _counter(settings, "login", pseudonym, member, device)
    # Every attempt is counted before the passphrase is checked, in one atomic step per
    # counter: counted only after a failure, many attempts sent at once all passed the check
    # before any of them was counted. A success clears the count it was counted in.
    blocked = await limits.hit(*counter) or await limits.hit("login_network", network)
    if blocked:
        raise Refusal(
            "rate_limited",
            f"Too many sign-in attempts. Please try again in {blocked.minutes} "
            f"minute{'s' if blocked.minutes != 1 else ''}.",
            status=429,
            retry_after=blocked.retry_after,
        )
    # Unknown names are verified against a dummy hash: same answer, similar time.
    if not await verify_passphrase(
        member.passphrase_hash if member else None, normalise_passphrase(passphrase)
    ):
        raise Refusal("invalid_credentials", INVALID_CREDENTIALS, status=401)
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
        token, session = _new_session(member, settings, kind, label)
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


async def resolve_session(
    db: Database, settings: Settings, token: str
) -> tuple[Member, MemberSession] | None:
    """The member behind a session token, if the session is still alive."""
    if not token or len(token) > 128:
        return None
    async with db.read() as s:
        row = (
            await s.exec(
                select(MemberSession, Member)
                .join(Member, Member.id == MemberSession.member_id)  # type: ignore[arg-type]
                .where(MemberSession.token_hash == token_hash(token))
            )
        ).first()
    if row is None:
        return None
    session, member = row
    now = utcnow()
    idle_limit = session.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if member.deleted_at or now >= session.expires_at or now >= idle_limit:
        await end_session(db, session.token_hash)
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        try:
            async with db.transaction() as s:
                await s.exec(
                    update(MemberSession)
                    .where(MemberSession.id == session.id)
                    .values(last_seen_at=now)
                )
        except Exception as exc:
            # A full disk or a read-only database must not stop members reading: the
            # session is good, it just isn't marked as used (the next request tries again).
            if not refuses_writes(exc):
                raise
            return member, session
        session.last_seen_at = now
    return member, session


async def end_session(db: Database, hashed_token: str) -> None:
    async with db.transaction() as s:
        await s.exec(delete(MemberSession).where(MemberSession.token_hash == hashed_token))


async def live_sessions(
    s: AsyncSession, token_hashes: set[str], idle: timedelta | None = None
) -> set[str]:
    """Those of these sessions (by token hash: unlike ids, never used twice) that still
    exist and have not run out, nor been unused for `idle` when given. Chat asks, to close
    connections whose sign-in has ended."""
    now = utcnow()
    query = select(MemberSession.token_hash).where(
        MemberSession.token_hash.in_(token_hashes),  # type: ignore[attr-defined]
        MemberSession.expires_at > now,
    )
    if idle is not None:
        query = query.where(MemberSession.last_seen_at > now - idle)
    return set(await s.exec(query))


async def touch_session(db: Database, settings: Settings, hashed_token: str) -> bool:
    """Mark a sign-in as used now, for what a request can't see: a member chatting over a
    WebSocket (chat/ws.py). False when it has ended or run out (idle included): nothing that
    has ended is revived."""
    now = utcnow()
    async with db.transaction() as s:
        touched = await s.exec(
            update(MemberSession)
            .where(
                MemberSession.token_hash == hashed_token,
                MemberSession.expires_at > now,
                MemberSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
            )
            .values(last_seen_at=now)
        )
    return touched.rowcount == 1


async def list_sessions(db: Database, member: Member) -> list[MemberSession]:
    async with db.read() as s:
        rows = await s.exec(
            select(MemberSession)
            .where(MemberSession.member_id == member.id)
            .order_by(MemberSession.last_seen_at.desc())  # type: ignore[attr-defined]
        )
        return list(rows)


async def revoke_session(db: Database, member: Member, session_id: int) -> str | None:
    """End one of the member's sessions; returns its token hash (None if it wasn't theirs)."""
    async with db.transaction() as s:
        result = await s.exec(
            delete(MemberSession)
            .where(MemberSession.id == session_id, MemberSession.member_id == member.id)
            .returning(MemberSession.token_hash)  # type: ignore[arg-type]
        )
        return result.scalar_one_or_none()


async def revoke_all_sessions(db: Database, member: Member, *, keep: int | None = None) -> int:
    async with db.transaction() as s:
        query = delete(MemberSession).where(MemberSession.member_id == member.id)
        if keep is not None:
            query = query.where(MemberSession.id != keep)
        return (await s.exec(query)).rowcount


async def _require_passphrase(member: Member, passphrase: str) -> None:
    if not await verify_passphrase(member.passphrase_hash, normalise_passphrase(passphrase)):
        raise Refusal(
            "wrong_passphrase",
            "That isn't your current passphrase. Check it and try again.",
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
    await _require_passphrase(member, current)
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
        token, session = _new_session(member, settings, kind, label)
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
            f"Too many recovery attempts. Please try again in {blocked.minutes} minutes.",
            status=429,
            retry_after=blocked.retry_after,
        )
    try:
        check_passphrase(new_passphrase, pseudonym)
    except PassphraseError as exc:
        raise Refusal(exc.code, exc.message, field="new_passphrase") from None
    hashed = await hash_passphrase(normalise_passphrase(new_passphrase))
    async with db.transaction() as s:
        member = await _find_member(s, pseudonym)
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
            "That pseudonym and recovery code don't match, or the code was already used. "
            "Each code works once; try another of yours.",
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
    await _require_passphrase(member, passphrase)
    codes = generate_recovery_codes()
    async with db.transaction() as s:
        await s.exec(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
        s.add_all(
            RecoveryCode(member_id=member.id, code_hash=hash_recovery_code(c))  # type: ignore[arg-type]
            for c in codes
        )
    return codes


async def delete_account(
    db: Database, hooks: MemberContentHooks, member: Member, passphrase: str, *, erase: bool
) -> None:
    """Delete an account. erase=True removes everything they wrote; otherwise their content
    stays, shown under "[deleted member]". Either way the pseudonym and credentials go."""
    await _require_passphrase(member, passphrase)
    async with db.transaction() as s:
        for hook in [*(hooks.erasers if erase else []), *hooks.leavers]:
            await hook(s, member.id)  # type: ignore[arg-type]
        for table, column in (
            (MemberSession, MemberSession.member_id),
            (RecoveryCode, RecoveryCode.member_id),
        ):
            await s.exec(delete(table).where(column == member.id))
        await s.exec(
            delete(MemberBlock).where(
                or_(MemberBlock.blocker_id == member.id, MemberBlock.blocked_id == member.id)
            )
        )
        await s.exec(
            update(Member)
            .where(Member.id == member.id)
            .values(
                pseudonym=DELETED_NAME,
                pseudonym_key=f"~deleted~{member.id}",
                pseudonym_skeleton=None,
                passphrase_hash=None,
                is_admin=False,
                is_peer_supporter=False,
                country=None,
                deleted_at=utcnow(),
            )
        )
    await db.scrub()  # what was just deleted must not linger in the database's files


async def export_account(db: Database, hooks: MemberContentHooks, member: Member) -> dict[str, Any]:
    """Everything the member wrote, as JSON-ready data."""
    async with db.read() as s:
        content = {name: await export(s, member.id) for name, export in hooks.exporters.items()}  # type: ignore[arg-type]
        blocked = await s.exec(
            select(Member.pseudonym)
            .join(MemberBlock, MemberBlock.blocked_id == Member.id)  # type: ignore[arg-type]
            .where(MemberBlock.blocker_id == member.id)
        )
        blocked_names = list(blocked)
    return {
        "format": "kindred-export-1",
        "exported_at": utcnow().isoformat(),
        "member": {
            "pseudonym": member.pseudonym,
            "roles": member.roles,
            "joined_at": member.created_at.isoformat(),
            # None: helplines follow the browser's language (identity/country.py).
            "country": member.country,
        },
        "blocked_members": blocked_names,
        "content": content,
    }


async def set_country(db: Database, member: Member, code: str) -> str | None:
    """Choose the country whose helplines the member is shown; "" clears it (the browser's
    language is used again)."""
    country = valid_country(code)
    if code.strip() and country is None:
        raise Refusal("invalid", "Choose a country from the list.", field="country", status=422)
    async with db.transaction() as s:
        await s.exec(update(Member).where(Member.id == member.id).values(country=country))
    member.country = country
    return country


async def block_member(db: Database, blocker: Member, pseudonym: str) -> Member:
    async with db.transaction() as s:
        target = await _find_member(s, pseudonym)
        if target is None:
            raise Refusal("not_found", "There's no member with that pseudonym.", status=404)
        if target.id == blocker.id:
            raise Refusal("invalid", "You can't block yourself.")
        if target.is_admin:
            raise Refusal(
                "invalid", "Site administrators can't be blocked; you can report content instead."
            )
        if await s.get(MemberBlock, (blocker.id, target.id)) is None:
            s.add(MemberBlock(blocker_id=blocker.id, blocked_id=target.id))  # type: ignore[arg-type]
        return target


async def unblock_member(db: Database, blocker: Member, member_id: int) -> None:
    async with db.transaction() as s:
        await s.exec(
            delete(MemberBlock).where(
                MemberBlock.blocker_id == blocker.id, MemberBlock.blocked_id == member_id
            )
        )


async def blocked_members(db: Database, member: Member) -> list[Member]:
    async with db.read() as s:
        rows = await s.exec(
            select(Member)
            .join(MemberBlock, MemberBlock.blocked_id == Member.id)  # type: ignore[arg-type]
            .where(MemberBlock.blocker_id == member.id)
            .order_by(Member.pseudonym_key)
        )
        return list(rows)


async def blocked_ids(s: AsyncSession, member_id: int) -> set[int]:
    rows = await s.exec(select(MemberBlock.blocked_id).where(MemberBlock.blocker_id == member_id))
    return set(rows)


async def set_roles(
    db: Database, pseudonym: str, *, admin: bool | None = None, peer_supporter: bool | None = None
) -> Member:
    async with db.transaction() as s:
        member = await _find_member(s, pseudonym)
        if member is None:
            raise Refusal("not_found", f"No member is called {pseudonym!r}.", status=404)
        if admin is not None:
            member.is_admin = admin
        if peer_supporter is not None:
            member.is_peer_supporter = peer_supporter
        s.add(member)
        return member
