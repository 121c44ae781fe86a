"""Reading plain HTML form posts."""

from __future__ import annotations

from starlette.datastructures import FormData


def form_text(form: FormData, name: str) -> str:
    """A text field's value ("" when missing, or when a file was sent in its place)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
