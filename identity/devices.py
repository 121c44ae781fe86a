"""Known devices: a device a member has signed in from before gets its own allowance of
sign-in attempts, so that strangers guessing at a pseudonym can't lock its member out of
their own phone (identity/signin.py: `login_device` instead of `login_member`).

After a successful sign-in, a browser keeps a long-lived cookie: a random nonce naming the
device and an HMAC, under the app's secret key, of the member's id and that nonce. It holds no
member id or pseudonym, can't be forged or moved to another account, and is checked against
the pseudonym being signed in to with nothing stored on the server. Like the session token,
it is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEVICE_DAYS = 365  # how long a device stays known after its member's last sign-in on it
_MAX_LENGTH = 128


def device_token(secret: str, member_id: int) -> str:
    """A new known-device token for this member (the cookie's value)."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_mac(secret, member_id, nonce)}"


def known_device(secret: str, member_id: int, token: str | None) -> str | None:
    """The device's nonce when `token` was given to this member's device, else None."""
    if not token or len(token) > _MAX_LENGTH:
        return None
    nonce, _, mac = token.partition(".")
    # As bytes: a cookie may carry any character, and compare_digest takes only ASCII text.
    if nonce and hmac.compare_digest(mac.encode(), _mac(secret, member_id, nonce).encode()):
        return nonce
    return None


def _mac(secret: str, member_id: int, nonce: str) -> str:
    message = f"known-device:{member_id}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
