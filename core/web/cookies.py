"""Cookie names and attributes, chosen once from the settings."""

from __future__ import annotations

from core.settings import Settings


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to this exact host, https and path "/".
    return "__Host-kindred_session" if settings.https else "kindred_session"


def presession_cookie_name(settings: Settings) -> str:
    return "__Host-kindred_csrf" if settings.https else "kindred_csrf"


def device_cookie_name(settings: Settings) -> str:
    # The known-device cookie (identity/devices.py): a sign-in allowance of this device's own.
    return "__Host-kindred_device" if settings.https else "kindred_device"


def cookie_options(settings: Settings) -> dict[str, object]:
    return {"httponly": True, "secure": settings.https, "samesite": "lax", "path": "/"}
