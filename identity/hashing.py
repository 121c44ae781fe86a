"""Passphrase hashing with argon2id, off the event loop."""

from __future__ import annotations

from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@cache
def _hasher() -> PasswordHasher:
    # OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("kindred-timing-equaliser")


async def hash_passphrase(passphrase: str) -> str:
    return await anyio.to_thread.run_sync(_hasher().hash, passphrase)


async def verify_passphrase(stored_hash: str | None, passphrase: str) -> bool:
    """True when it matches. With no stored hash, still spends the same time, then says no."""
    target = stored_hash or _dummy_hash()

    def verify() -> bool:
        try:
            return _hasher().verify(target, passphrase) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def warm_up() -> None:
    """Compute the dummy hash at start-up so the first unknown-name login isn't faster."""
    _dummy_hash()
