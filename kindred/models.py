"""Every table's model, imported in one place so the metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

import chat.groups.models
import chat.models
import chat.support.models  # noqa: F401
import communities.models  # noqa: F401
import forum.models  # noqa: F401
import identity.models  # noqa: F401
import moderation.models  # noqa: F401

metadata = SQLModel.metadata
