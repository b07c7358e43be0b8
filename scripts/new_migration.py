"""Write a new Alembic revision holding the difference between the models and the migrations.

Usage: ``make migration NAME="add dispatch index"`` (or ``python scripts/new_migration.py NAME``).

A scratch SQLite database is migrated to the current heads, then compared with the models
(``flexhub.store.tables.metadata``); the revision gets the next number (``0004``, ...) and
lands in ``src/flexhub/store/migrations/versions/``, formatted with ruff. When there are
several heads the new revision merges them. Read it before committing: autogenerate does not
see everything (renames, server defaults, data changes), and SQLite is only one of the two
databases (``tests/store/test_migrations.py`` checks both).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from flexhub.store.database import MIGRATIONS, alembic_config
from flexhub.store.tables import metadata

VERSIONS = MIGRATIONS / "versions"


def next_revision_id() -> str:
    """One more than the highest numbered revision file (``0003_x.py`` → ``0004``)."""
    numbers = [int(m.group(1)) for p in VERSIONS.glob("*.py") if (m := re.match(r"(\d+)_", p.name))]
    return f"{max(numbers, default=0) + 1:04d}"


def write_revision(name: str) -> Path:
    message = re.sub(r"[\s_-]+", " ", name).strip()
    if not re.search(r"\w", message):
        raise SystemExit("NAME must contain a letter or digit, e.g. NAME='add dispatch index'")
    rev_id = next_revision_id()
    cfg = alembic_config()
    with tempfile.TemporaryDirectory(prefix="flexhub-migration-") as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            with engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                conn.commit()
                differences = compare_metadata(
                    MigrationContext.configure(conn, opts={"compare_type": True}), metadata
                )
                heads = ScriptDirectory.from_config(cfg).get_heads()
                script = command.revision(
                    cfg, message=message, autogenerate=True, head="heads", rev_id=rev_id
                )
                conn.commit()
        finally:
            engine.dispose()
    path = Path(script.path)
    ruff = Path(sys.executable).with_name("ruff")
    ruff_cmd = str(ruff) if ruff.exists() else shutil.which("ruff")
    if ruff_cmd:
        # an empty revision keeps its unused imports, for writing it by hand
        only = [] if differences else ["--select", "I"]
        subprocess.run([ruff_cmd, "check", "--fix", "--quiet", *only, str(path)], check=False)
        subprocess.run([ruff_cmd, "format", "--quiet", str(path)], check=False)
    merged = f", merging heads {', '.join(sorted(heads))}" if len(heads) > 1 else ""
    print(f"wrote {path}")
    if differences:
        print(f"{len(differences)} differences between the models and the migrations{merged}:")
        for difference in differences:
            print(f"  {difference}")
    else:
        print(f"the models and the migrations agree: the revision is empty{merged}")
        print("write its upgrade() and downgrade() by hand, or delete it")
    return path


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].strip():
        raise SystemExit('usage: make migration NAME="short description"')
    write_revision(argv[0])


if __name__ == "__main__":
    main(sys.argv[1:])
