"""The one Jinja2 environment: autoescaped, with CSRF tokens, cache-busted static URLs and
times on the member's clock."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from core import i18n
from core.web.clock import member_zone, time_for_page
from core.web.csrf import csrf_token
from core.web.forms import submission_id

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@cache
def _static_version(path: str) -> str:
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        return "0"
    return hashlib.sha256(target.read_bytes()).hexdigest()[:10]


def is_current_static(path: str, version: str) -> bool:
    """Whether /static/<path>?v=<version> names the file as it is now (so it never changes)."""
    return version == _static_version(path) != "0"


def static_url(path: str) -> str:
    """URL of a static file with its content hash, so it can be cached for a year."""
    return f"/static/{path}?v={_static_version(path)}"


def member_context(request: Request) -> dict[str, object]:
    state = request.scope.get("state", {})
    return {"member": state.get("member"), "request": request}


def make_templates(extra_globals: dict[str, object] | None = None) -> Jinja2Templates:
    env = Environment(
        # {% trans %} and _() in templates: this request's language (core/i18n.py)
        extensions=["jinja2.ext.i18n"],
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    # {{ label | t }}: a text held in a variable (a label marked N_() in Python), translated
    # and then escaped like any value. `_()` is for the template's own literal texts: it
    # marks its result safe, which must never happen to anything a member wrote.
    env.filters["t"] = lambda text: i18n.gettext(text) if text else text
    env.globals.update(
        language=i18n.current,
        script_texts=i18n.page_script_catalog,
        csrf_token=csrf_token,
        submission_id=submission_id,
        static=static_url,
        # Every moment on every page, on the member's clock (templates/macros/time.html).
        shown_time=time_for_page,
        member_zone=member_zone,
        # A count in the page's language's digits and separators ("4,000", "4.000").
        number=i18n.number,
        **(extra_globals or {}),
    )
    return Jinja2Templates(env=env, context_processors=[member_context])
