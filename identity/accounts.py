"""Accounts: signing up under a pseudonym, finding a member by name, and their roles.

A new account is a pseudonym, a passphrase and ten recovery codes, and nothing else: no
email, no phone. The name must pass identity's own rules (identity/names.py: length,
characters, no staff words, no name that reads as a staff member's) and then the checks the
composition root registers (kindred.app: moderation vets it as a profile field, so a name
can't carry a phone number); it must not read as anyone else's name either, whatever its
capitals or look-alike characters. New accounts are counted per client network
(`signup_network`). Sign-in and recovery are in signin.py, sessions in sessions.py,
deleting and exporting an account in lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Database
from core.errors import Refusal
from core.i18n import gettext as _
from core.i18n import ngettext
from core.ratelimit import RateLimits
from core.settings import Settings
from identity.hashing import hash_passphrase
from identity.models import Member, RecoveryCode
from identity.names import (
    PseudonymError,
    check_pseudonym,
    lookalike_key,
    pseudonym_key,
    suggest_pseudonyms,
)
from identity.passphrases import PassphraseError, check_passphrase, normalise_passphrase
from identity.recovery import generate_recovery_codes, hash_recovery_code
from identity.sessions import SignedIn, new_session

# Asked for the pseudonyms of staff that identity doesn't know as staff: community
# moderators, whom moderation appoints (kindred.app passes the provider in, as it does the
# sign-in checks). No new pseudonym may read as a staff member's, with numbers or separators
# added either (identity/names.py).
StaffNames = Callable[[AsyncSession], Awaitable[Iterable[str]]]

# Asked of a pseudonym that passed identity's own rules, as a profile field moderation vets
# (kindred.app passes the check in; identity knows nothing of the content pipeline). Raises
# a Refusal about the "pseudonym" field when the name can't be used; returns otherwise.
NameCheck = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class NewAccount:
    signed_in: SignedIn
    recovery_codes: list[str]


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
    name_checks: Sequence[NameCheck] = (),
    limits: RateLimits | None = None,
    network: str = "",
) -> NewAccount:
    """A new account, signed in. Counted against `network` (a keyed hash of the client's
    network) when `limits` are given: an operator's CLI has no network to count."""
    if limits is not None and (blocked := await limits.hit("signup_network", network)):
        raise Refusal(
            "rate_limited",
            ngettext(
                "Too many new accounts from your network. Try again in %(num)d minute.",
                "Too many new accounts from your network. Try again in %(num)d minutes.",
                blocked.minutes,
            )
            % {"num": blocked.minutes},
            429,
            retry_after=blocked.retry_after,
        )
    async with db.read() as s:
        staff = await staff_pseudonyms(s, staff_names)
    try:
        name = check_pseudonym(pseudonym, staff)
    except PseudonymError as exc:
        # Staff created by an operator may carry staff words; that is what they are for.
        if not (is_admin and exc.code in ("reserved", "impersonation")):
            raise Refusal(exc.code, exc.message, field="pseudonym") from None
        name = pseudonym.strip()
    for check in name_checks:
        await check(name)
    try:
        check_passphrase(passphrase, name)
    except PassphraseError as exc:
        raise Refusal(exc.code, exc.message, field="passphrase") from None
    hashed = await hash_passphrase(normalise_passphrase(passphrase))
    codes = generate_recovery_codes()
    try:
        async with db.transaction() as s:
            if await member_named(s, name) is not None or await _looks_taken(s, name):
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
            token, session = new_session(member, settings, kind, label)
            s.add(session)
    except IntegrityError:
        raise _taken() from None  # a simultaneous sign-up took the name first
    return NewAccount(SignedIn(member, token, session), codes)


def _taken() -> Refusal:
    return Refusal(
        "pseudonym_taken",
        _(
            "That pseudonym is already taken, or looks too much like one that is (names are the "
            "same whatever their capitals, and look-alikes such as R0wan for Rowan count too). "
            "Try one of the suggestions or add something of your own."
        ),
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


async def member_named(s: AsyncSession, pseudonym: str) -> Member | None:
    """The member who goes by this pseudonym now (any capitals), in the caller's session."""
    result = await s.exec(
        select(Member).where(
            Member.pseudonym_key == pseudonym_key(pseudonym.strip()), Member.deleted_at.is_(None)
        )
    )
    return result.first()


async def find_member(db: Database, pseudonym: str) -> Member | None:
    async with db.read() as s:
        return await member_named(s, pseudonym)


async def set_roles(
    db: Database, pseudonym: str, *, admin: bool | None = None, peer_supporter: bool | None = None
) -> Member:
    async with db.transaction() as s:
        member = await member_named(s, pseudonym)
        if member is None:
            raise Refusal(
                "not_found", _("No member is called %(name)s.") % {"name": repr(pseudonym)}, 404
            )
        if admin is not None:
            member.is_admin = admin
        if peer_supporter is not None:
            member.is_peer_supporter = peer_supporter
        s.add(member)
        return member
