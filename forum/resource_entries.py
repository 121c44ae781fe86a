"""The words and fields of one resource directory entry, as a member or moderator typed
them: everything but the words is checked here as data (the link and phone number in
forum/resource_links.py), and the name and description go through `vet` like any member's
words (forum/resources.py decides what then happens to the entry)."""

from __future__ import annotations

from dataclasses import dataclass

from communities.models import Community
from core.context import AppContext
from core.db import utcnow
from core.errors import Refusal
from core.i18n import gettext as _
from forum.models import ANYWHERE, HELP_TYPES, RESOURCE_KINDS, Resource
from forum.resource_links import check_phone, check_url
from identity.country import COUNTRIES
from identity.models import Member
from moderation import api as moderation

MAX_NAME = 80
MAX_DESCRIPTION = 300


@dataclass(frozen=True)
class EntryForm:
    """What a member or moderator typed into the entry form, as typed (kept on a refusal)."""

    name: str = ""
    kind: str = "service"
    description: str = ""
    url: str = ""
    phone: str = ""
    help_types: tuple[str, ...] = ()
    region: str = ANYWHERE

    @classmethod
    def of(cls, entry: Resource) -> EntryForm:
        return cls(
            name=entry.name,
            kind=entry.kind,
            description=entry.description,
            url=entry.url or "",
            phone=entry.phone or "",
            help_types=tuple(entry.help_type_list),
            region=entry.region,
        )

    @property
    def draft(self) -> str:
        """The words, as one text the member can copy back if all else fails."""
        return "\n".join(p for p in (self.name, self.description, self.url, self.phone) if p)


@dataclass(frozen=True)
class Checked:
    """An entry's fields once checked: link and phone validated, choices from the lists."""

    kind: str
    url: str | None
    phone: str | None
    help_types: str
    region: str


def check_fields(form: EntryForm) -> Checked:
    """Everything on the form but the words (those are vetted), or a Refusal naming the
    field to change."""
    if form.kind not in RESOURCE_KINDS:
        raise Refusal(
            "invalid", _("Choose whether it's a service, a helpline or a guide."), field="kind"
        )
    chosen = [h for h in HELP_TYPES if h in form.help_types]
    if not chosen or len(chosen) != len(set(form.help_types)):
        raise Refusal(
            "invalid", _("Choose at least one kind of help it gives."), field="help_types"
        )
    if form.region != ANYWHERE and form.region not in COUNTRIES:
        raise Refusal("invalid", _("Choose a country from the list, or anywhere."), field="region")
    url = check_url(form.url) if form.url.strip() else None
    phone = check_phone(form.phone) if form.phone.strip() else None
    if url is None and phone is None:
        raise Refusal("invalid", _("Give a web address, a phone number, or both."), field="url")
    return Checked(form.kind, url, phone, "," + ",".join(chosen) + ",", form.region)


def check_words(form: EntryForm) -> None:
    if not form.name.strip():
        raise Refusal("invalid", _("Give the resource's name."), field="name", draft=form.draft)
    if len(form.name.strip()) > MAX_NAME:
        raise Refusal(
            "too_long",
            _("The name can be at most %(max)d characters.") % {"max": MAX_NAME},
            field="name",
        )
    if len(form.description.strip()) > MAX_DESCRIPTION:
        raise Refusal(
            "too_long",
            _("The description can be at most %(max)d characters.") % {"max": MAX_DESCRIPTION},
            field="description",
        )


async def vetted(
    ctx: AppContext, member: Member, community: Community, form: EntryForm, region: str | None
) -> moderation.Verdict:
    """The name and description through the one pipeline; refused means the form again,
    with the reason beside the field it is about and every word kept."""
    check_words(form)
    place = moderation.Place(moderation.RESOURCE_ENTRY, community.id)
    parts = {"title": form.name, "description": form.description or form.name}
    verdict = await moderation.vet(ctx, member, place, parts, region=region)
    if verdict.refused:
        refusal = verdict.refusal(draft=form.draft)
        if refusal.field == "title":
            refusal.field = "name"
        raise refusal
    return verdict


def words(verdict: moderation.Verdict, form: EntryForm) -> tuple[str, str]:
    name = verdict["title"].text.strip()[:MAX_NAME]
    description = verdict["description"].text.strip() if form.description.strip() else ""
    return name, description[:MAX_DESCRIPTION]


def apply(entry: Resource, checked: Checked, name: str, description: str) -> None:
    entry.name, entry.description = name, description
    entry.kind, entry.url, entry.phone = checked.kind, checked.url, checked.phone
    entry.help_types, entry.region = checked.help_types, checked.region
    entry.updated_at = utcnow()
