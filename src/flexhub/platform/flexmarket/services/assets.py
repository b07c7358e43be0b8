"""A provider's assets: create, read, look up by ``ref``, change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.services.queries import one_or_404, scoped
from flexhub.platform.transactions import committing
from flexhub.store.flexmarket import FmAsset
from flexhub.wire.flexmarket.assets import (
    DECIMAL_FIELDS,
    DURATION_FIELDS,
    STATUSES,
    TEXT_FIELDS,
    AssetIn,
    AssetOut,
    AssetPatch,
)

_LIMITS = {"postcode": 16, "import_meter_id": 64, "export_meter_id": 64}
_RANGES = {"latitude": (-90, 90), "longitude": (-180, 180)}
REF_TAKEN = "you already have an asset with this ref"


def _columns(e: Errors, changes: dict[str, Any]) -> dict[str, Any]:
    """Check the given fields and map them to column values."""
    cols: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("ref", "name"):
            if value is None:
                e.add(name, "may not be null")
            else:
                e.text(value, name, max_length=200 if name == "ref" else 400)
            cols[name] = value
        elif name == "status":
            if value is None:
                e.add(name, "may not be null")
            else:
                e.choice(value, name, STATUSES)
            cols[name] = value
        elif value is None:
            cols[name + "_seconds" if name in DURATION_FIELDS else name] = None
        elif name in DECIMAL_FIELDS:
            number = e.decimal(value, name, non_negative=name not in _RANGES)
            low, high = _RANGES.get(name, (None, None))
            if number is not None and low is not None and not low <= number <= high:
                e.add(name, f"must be between {low} and {high}")
            cols[name] = value
        elif name in DURATION_FIELDS:
            cols[name + "_seconds"] = e.duration(value, name, positive=False)
        elif name == "country_code":
            cols[name] = e.code(value, name, 2, "GB")
        elif name in TEXT_FIELDS:  # blank is refused: null clears a field
            cols[name] = e.text(value, name, max_length=_LIMITS.get(name, 64))
    return cols


def _check_location(e: Errors, merged: dict[str, Any]) -> None:
    has_point = merged.get("latitude") is not None and merged.get("longitude") is not None
    if merged.get("postcode") is None and not has_point:
        e.add("postcode", "a postcode, or a latitude and longitude, is required")
    elif (merged.get("latitude") is None) != (merged.get("longitude") is None):
        missing = "longitude" if merged.get("longitude") is None else "latitude"
        e.add(missing, "latitude and longitude go together")


async def _ref_taken(
    session: AsyncSession, provider_tenant_id: str, ref: str, except_id: str | None = None
) -> bool:
    query = select(FmAsset.id).where(
        FmAsset.provider_tenant_id == provider_tenant_id, FmAsset.ref == ref
    )
    if except_id is not None:
        query = query.where(FmAsset.id != except_id)
    return await session.scalar(query) is not None


async def create(
    session: AsyncSession, provider_tenant_id: str, body: AssetIn, now: datetime
) -> AssetOut:
    e = Errors()
    given = body.model_dump(exclude_unset=True)
    if "provider" in given and given.pop("provider") != provider_tenant_id:
        e.add("provider", "must be your own provider id (or left out)")
    cols = _columns(e, given)
    _check_location(e, given)
    if await _ref_taken(session, provider_tenant_id, body.ref):
        e.add("ref", REF_TAKEN)
    e.raise_if_any()
    cols.setdefault("status", "in_development")
    asset = FmAsset(
        id=str(uuid.uuid4()),
        provider_tenant_id=provider_tenant_id,
        created=now,
        modified=now,
        **cols,
    )
    async with committing(session, 400, REF_TAKEN, "ref"):
        session.add(asset)
        await session.flush()
        view = mappers.asset(asset)
    return view


async def find(session: AsyncSession, provider_tenant_id: str, asset_id: str) -> FmAsset:
    query = select(FmAsset).where(FmAsset.id == asset_id)
    return await one_or_404(session, scoped(query, FmAsset, provider_tenant_id), "Asset")


async def get(session: AsyncSession, provider_tenant_id: str, asset_id: str) -> AssetOut:
    return mappers.asset(await find(session, provider_tenant_id, asset_id))


async def update(
    session: AsyncSession, provider_tenant_id: str, asset_id: str, body: AssetPatch, now: datetime
) -> AssetOut:
    """Change only the fields sent; the result must still have a location."""
    asset = await find(session, provider_tenant_id, asset_id)
    e = Errors()
    given = body.model_dump(exclude_unset=True)
    cols = _columns(e, given)
    current = mappers.asset(asset).model_dump()
    _check_location(e, {**current, **given})
    if given.get("ref") and await _ref_taken(session, provider_tenant_id, given["ref"], asset.id):
        e.add("ref", REF_TAKEN)
    e.raise_if_any()
    for name, value in cols.items():
        setattr(asset, name, value)
    asset.modified = now
    async with committing(session, 400, REF_TAKEN, "ref"):
        await session.flush()
        view = mappers.asset(asset)
    return view


async def list_assets(
    session: AsyncSession, provider_tenant_id: str, page: Page, ref: str | None = None
) -> tuple[list[AssetOut], int]:
    query = select(FmAsset).where(FmAsset.provider_tenant_id == provider_tenant_id)
    if ref is not None:
        query = query.where(FmAsset.ref == ref)
    rows, count = await fetch(session, query.order_by(FmAsset.created, FmAsset.id), page)
    return [mappers.asset(a) for a in rows], count
