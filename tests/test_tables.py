"""Each package reads and writes only its own tables (tools/check_tables.py, run by
`make lint` too): no redeclared `sa.table(...)` shims, no raw SQL naming another package's
table. The bad samples are the shims issue 15 removed, so the check is shown to catch them."""

from __future__ import annotations

import pytest

from tools.check_tables import check_source, owners, violations


@pytest.fixture(scope="module")
def owned_by() -> dict[str, str]:
    return owners()


def test_every_package_keeps_to_its_own_tables() -> None:
    assert violations() == []


def test_tables_belong_to_the_package_whose_models_define_them(owned_by) -> None:
    assert owned_by["community"] == "communities"
    assert owned_by["community_moderator"] == "communities"
    assert owned_by["community_policy"] == "moderation"
    assert owned_by["watched_word"] == "moderation"
    assert owned_by["post"] == owned_by["thread"] == "forum"
    assert owned_by["chat_message"] == owned_by["support_request"] == "chat"
    assert owned_by["member"] == "identity"


SHIMS = [
    (  # moderation read (and wrote) the community table by name
        "moderation/pages.py",
        'import sqlalchemy as sa\n_community = sa.table("community", sa.column("id"))\n',
        "declares table community (owned by communities)",
    ),
    (  # trust counted forum's posts
        "moderation/trust.py",
        'import sqlalchemy as sa\n_post = sa.table("post", sa.column("author_id"))\n',
        "declares table post (owned by forum)",
    ),
    (  # chat read moderation's cases and reports
        "chat/support/access.py",
        'from sqlalchemy import table\n_report = table("report")\n',
        "declares table report (owned by moderation)",
    ),
    (
        "chat/service.py",
        'import sqlalchemy\nT = sqlalchemy.sql.table("community")\n',
        "declares table community",
    ),
    (
        "chat/groups/service.py",
        'from sqlalchemy import MetaData, Table\nT = Table("community", MetaData())\n',
        "declares table community",
    ),
    (  # a name built at run time is still a declaration
        "forum/queries.py",
        "import sqlalchemy as sa\nT = sa.table(NAME)\n",
        "declares table ?",
    ),
    (  # raw SQL, however it reaches text()
        "chat/support/service.py",
        'from sqlalchemy import text\nQ = text("SELECT name FROM community WHERE id = :id")\n',
        "SQL names table community, owned by communities",
    ),
    (
        "forum/search.py",
        'SQL = f"SELECT 1 FROM post p JOIN member_block b ON b.blocked_id = {x}"\n',
        "SQL names table member_block, owned by identity",
    ),
    (
        "moderation/api.py",
        "Q = \"UPDATE post SET status = 'hidden'\"\n",
        "SQL names table post, owned by forum",
    ),
    (  # a models module may declare only its own package's tables
        "chat/models.py",
        'import sqlalchemy as sa\n_case = sa.table("moderation_case")\n',
        "declares table moderation_case, owned by moderation",
    ),
]


@pytest.mark.parametrize(("path", "source", "expected"), SHIMS)
def test_a_foreign_table_is_caught(owned_by, path: str, source: str, expected: str) -> None:
    [problem] = check_source(source, path, owned_by)
    assert problem.startswith(f"{path}:")  # where, so it can be fixed
    assert expected in problem


GOOD = [
    ("core/db.py", 'import sqlalchemy as sa\nsa.text("SELECT 1")\n'),
    ("moderation/models.py", 'import sqlalchemy as sa\nW = sa.text("closed_at IS NULL")\n'),
    ("forum/search.py", 'Q = "DELETE FROM post_search WHERE rowid = :id"\n'),
    ("communities/service.py", 'Q = "SELECT name FROM community"\n'),
    ("moderation/pages.py", 'M = "Choose from community rules, or update post settings."\n'),
    ("moderation/api.py", "from sqlmodel import select\nq = select(A).select_from(B)\n"),
]


@pytest.mark.parametrize(("path", "source"), GOOD)
def test_a_packages_own_tables_and_prose_pass(owned_by, path: str, source: str) -> None:
    assert check_source(source, path, owned_by) == []
