"""The member's "been there" page: the experiences they have lived through (private), whether
they are open to being asked about them, and their quiet hours. Plain forms; each answers
with a redirect, or the page again with the error beside its field."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from communities.models import EXPERIENCE_SINCE
from core.errors import Refusal
from core.i18n import N_
from core.i18n import gettext as _
from core.web.clock import member_zone
from core.web.errors import form_errors
from core.web.forms import form_text
from core.web.params import optional_int
from forum import been_there
from forum.web import context, render
from identity.auth import require_member
from identity.models import Member

PAGE = "/settings/been-there"
SAVED = {
    "record": N_("Saved. Only you can see your experiences."),
    "forget": N_("Removed. Nothing of it is kept."),
    "choice": N_("Saved."),
}


async def been_there_page(request: Request) -> Response:
    member = require_member(request)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        what = form_text(form, "what")
        values = {k: form_text(form, k) for k in ("label", "since", "quiet_from", "quiet_until")}
        values["zone"] = form_text(form, "zone")
        try:
            await _apply(request, member, what, form)
        except Refusal as exc:
            errors = form_errors(exc)
        else:
            return RedirectResponse(f"{PAGE}?saved={what}", 303)
    mine = await been_there.my_been_there(context(request).db, member)
    return render(
        request,
        "forum/been_there.html",
        {
            "mine": mine,
            "since_choices": EXPERIENCE_SINCE,
            "errors": errors,
            "values": values,
            "zone_guess": mine.choice.zone or member_zone(request) or "",
            # English here: the template translates it ({{ _(saved) }}).
            "saved": SAVED.get(request.query_params.get("saved", "")),
        },
        422 if errors else 200,
    )


async def _apply(request: Request, member: Member, what: str, form: FormData) -> None:
    db = context(request).db
    if what == "record":
        label_id = optional_int(form_text(form, "label"), "label", None)
        if label_id is None:
            raise Refusal("invalid", _("Choose an experience from the list."), field="label")
        await been_there.record_experience(db, member, label_id, form_text(form, "since"))
    elif what == "forget":
        label_id = optional_int(form_text(form, "label_id"), "label_id", None) or 0
        await been_there.forget_experience(db, member, label_id)
    elif what == "choice":
        await been_there.set_choice(
            db,
            member,
            open_to_asks=form_text(form, "open_to_asks") == "yes",
            quiet_from=form_text(form, "quiet_from"),
            quiet_until=form_text(form, "quiet_until"),
            zone=form_text(form, "zone"),
        )
    else:
        raise Refusal("invalid", _("Unknown setting."))


routes = [Route(PAGE, been_there_page, methods=["GET", "POST"])]
