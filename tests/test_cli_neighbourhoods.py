"""``flexhub platform neighbourhoods load FILE``: loads, reloads idempotently, removes what a
file no longer has, keeps the sandbox areas, and refuses a bad file without changing
anything."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from typer.testing import CliRunner

from flexhub.cli import app
from flexhub.store.coordination import Neighbourhood
from flexhub.store.database import Database

SANDBOX = {"sandbox-test-area-1", "sandbox-test-area-2"}


def _env(tmp_path) -> dict[str, str]:
    return {
        "FLEXHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "FLEXHUB_DATA_DIR": str(tmp_path / "data"),
    }


def _feature(ident: str, x: float, **properties) -> dict:
    ring = [[x, 60.0], [x + 1, 60.0], [x + 1, 61.0], [x, 61.0], [x, 60.0]]
    return {
        "type": "Feature",
        "id": ident,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"priceArea": "NO1", **properties},
    }


def _write(path, *features) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return str(path)


def _said(result) -> str:
    """What the command printed, on one line (the console wraps long lines)."""
    return " ".join(result.output.split())


def _stored(tmp_path) -> dict[str, Neighbourhood]:
    async def read() -> dict[str, Neighbourhood]:
        db = Database(_env(tmp_path)["FLEXHUB_DATABASE_URL"])
        try:
            async with db.session() as session:
                return {n.id: n for n in (await session.scalars(select(Neighbourhood))).all()}
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_load_reload_and_remove(tmp_path):
    runner = CliRunner()
    env = _env(tmp_path)
    first = _write(tmp_path / "a.geojson", _feature("a", 10), _feature("b", 12, capacityKw=500))
    result = runner.invoke(app, ["platform", "neighbourhoods", "load", first], env=env)
    assert result.exit_code == 0, result.output
    assert "4 added, 0 updated, 0 removed, 0 unchanged" in _said(result)  # and the sandbox
    stored = _stored(tmp_path)
    assert set(stored) == {"a", "b"} | SANDBOX
    assert stored["b"].capacity_kw == 500 and stored["b"].time_zone == "Europe/Oslo"
    stamp = stored["a"].updated_at

    again = runner.invoke(app, ["platform", "neighbourhoods", "load", first], env=env)
    assert "0 added, 0 updated, 0 removed, 4 unchanged" in _said(again), again.output
    assert _stored(tmp_path)["a"].updated_at == stamp

    second = _write(tmp_path / "b.geojson", _feature("b", 12, capacityKw=650))
    result = runner.invoke(app, ["platform", "neighbourhoods", "load", second], env=env)
    assert "0 added, 1 updated, 1 removed, 2 unchanged" in _said(result), result.output
    stored = _stored(tmp_path)
    assert set(stored) == {"b"} | SANDBOX and stored["b"].capacity_kw == 650


def test_a_bad_file_changes_nothing(tmp_path):
    runner = CliRunner()
    env = _env(tmp_path)
    good = _write(tmp_path / "good.geojson", _feature("a", 10))
    assert runner.invoke(app, ["platform", "neighbourhoods", "load", good], env=env).exit_code == 0
    bad = _write(tmp_path / "bad.geojson", _feature("c", 20), _feature("d", 22, priceArea="XX"))
    result = runner.invoke(app, ["platform", "neighbourhoods", "load", bad], env=env)
    assert result.exit_code == 1
    assert "was not loaded (nothing changed)" in _said(result)
    assert "features[1].properties.priceArea: must be one of" in _said(result)
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [')
    broken = runner.invoke(
        app, ["platform", "neighbourhoods", "load", str(tmp_path / "broken.geojson")], env=env
    )
    assert broken.exit_code == 1 and "is not JSON" in _said(broken)
    missing = runner.invoke(
        app, ["platform", "neighbourhoods", "load", str(tmp_path / "nope.geojson")], env=env
    )
    assert missing.exit_code == 1 and "cannot read" in _said(missing)
    assert set(_stored(tmp_path)) == {"a"} | SANDBOX


def test_without_the_sandbox_setting_a_load_removes_the_sandbox_areas(tmp_path):
    runner = CliRunner()
    env = {**_env(tmp_path), "FLEXHUB_SANDBOX_NEIGHBOURHOODS": "false"}
    path = _write(tmp_path / "a.geojson", _feature("a", 10))
    runner.invoke(app, ["platform", "neighbourhoods", "load", path], env=_env(tmp_path))
    result = runner.invoke(app, ["platform", "neighbourhoods", "load", path], env=env)
    assert "0 added, 0 updated, 2 removed, 1 unchanged" in _said(result), result.output
    assert set(_stored(tmp_path)) == {"a"}
