"""Every table belongs to one package; no other package declares it or names it in SQL.

    .venv/bin/python tools/check_tables.py

Run by `make lint` and by tests/test_tables.py. import-linter sees imports only: a package
could still reach another's data behind its back by redeclaring the table (`sa.table(...)`,
`Table(...)`) or by naming it in raw SQL. This maps each table in the models' metadata to
the package whose models define it, then reads every module of the layered packages and
reports:
- a `table(...)`/`Table(...)` declaration outside a package's models module (a models
  module may declare only its own package's tables);
- a table defined by a module that is not its package's models;
- SQL in a string (`text("...")`, an f-string, a constant built for one) that names, after
  FROM, JOIN, INTO, UPDATE, TABLE or REFERENCES, a table another package owns.
migrations/ and tests/ are exempt: they describe every package's schema by design.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Tables made by hand in migrations rather than from a model (the search index).
HAND_MADE = {"post_search": "forum"}
# Upper case only: SQL is written so here, and prose ("choose from the list") is not SQL.
_SQL_NAME = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE|TABLE|REFERENCES)\s+"?([A-Za-z_]\w*)')
_DECLARERS = {"table", "Table"}


def packages(root: Path = ROOT) -> list[str]:
    """The layered packages, as import-linter knows them (pyproject.toml)."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["root_packages"])


def _is_models(module: str) -> bool:
    return module.rsplit(".", 1)[-1] == "models"


def owners() -> dict[str, str]:
    """Each table's owning package, from the module of the model that defines it."""
    from sqlmodel import SQLModel

    import kindred.models  # noqa: F401  (every model, so the metadata is complete)

    found = dict(HAND_MADE)
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        module = mapper.class_.__module__
        for table in mapper.tables:
            found[table.name] = module.split(".")[0]
    return found


def misplaced_models() -> list[str]:
    """Tables whose model lives outside its package's models module."""
    from sqlmodel import SQLModel

    problems = []
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        module = mapper.class_.__module__
        if not _is_models(module):
            name = mapper.local_table.name
            problems.append(f"{module}: table {name} is defined outside its package's models")
    return problems


def _sqlalchemy_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names bound to sqlalchemy modules, names bound to its table/Table)."""
    modules, declarers = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("sqlalchemy", "sqlmodel"):
                    modules.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] not in ("sqlalchemy", "sqlmodel"):
                continue
            for alias in node.names:
                if alias.name in _DECLARERS:
                    declarers.add(alias.asname or alias.name)
                else:
                    modules.add(alias.asname or alias.name)  # `from sqlalchemy import sql`
    return modules, declarers


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _declarations(tree: ast.Module) -> Iterator[tuple[int, str | None]]:
    """(line, table name if a literal) of each table(...)/Table(...) call."""
    modules, declarers = _sqlalchemy_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        by_module = (
            isinstance(func, ast.Attribute)
            and func.attr in _DECLARERS
            and _root_name(func.value) in modules
        )
        by_name = isinstance(func, ast.Name) and func.id in declarers
        if by_module or by_name:
            first = node.args[0] if node.args else None
            name = first.value if isinstance(first, ast.Constant) else None
            yield node.lineno, name if isinstance(name, str) else None


def _sql_names(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for match in _SQL_NAME.finditer(node.value):
                yield node.lineno, match.group(1)


def check_source(source: str, path: str, owned_by: Mapping[str, str]) -> list[str]:
    """What is wrong in one module: `path` is relative to the repository ("chat/service.py")."""
    package = path.split("/")[0]
    module = path.removesuffix(".py").replace("/", ".")
    tree = ast.parse(source, filename=path)
    problems = []
    for line, name in _declarations(tree):
        owner = owned_by.get(name or "")
        if not _is_models(module):
            problems.append(
                f"{path}:{line}: declares table {name or '?'}"
                + (f" (owned by {owner})" if owner else "")
                + ": use the owning package's API (or, for its own table, its models)"
            )
        elif owner is not None and owner != package:
            problems.append(f"{path}:{line}: declares table {name}, owned by {owner}")
    for line, name in _sql_names(tree):
        owner = owned_by.get(name)
        if owner is not None and owner != package:
            problems.append(
                f"{path}:{line}: SQL names table {name}, owned by {owner}: "
                f"ask {owner} through its API"
            )
    return problems


def violations(root: Path = ROOT) -> list[str]:
    owned_by = owners()
    problems = misplaced_models()
    for package in packages(root):
        for file in sorted((root / package).rglob("*.py")):
            path = file.relative_to(root).as_posix()
            problems += check_source(file.read_text(encoding="utf-8"), path, owned_by)
    return problems


def main() -> int:
    problems = violations()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} foreign table use(s): see tools/check_tables.py", file=sys.stderr)
        return 1
    print("tables: every package keeps to its own")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
