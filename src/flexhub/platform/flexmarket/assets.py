"""A provider's assets: create, read, look up by ``ref``, change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import not_found
from flexhub.platform.flexmarket import wire
from flexhub.platform.flexmarket.fields import Errors
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.schemas.assets import (
    DECIMAL_FIELDS,
    DURATION_FIELDS,
    STATUSES,
    TEXT_FIELDS,
    AssetIn,
    AssetPatch,
)
from flexhub.store.flexmarket import FmAsset

_LIMITS = {"country_code": 2, "postcode": 16, "import_meter_id": 64, "export_meter_id": 64}
_RANGES = {"latitude": (-90, 90), "longitude": (-180, 180)}


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
        elif name in TEXT_FIELDS:
            if len(value) > _LIMITS.get(name, 64):
                e.add(name, f"must be at most {_LIMITS.get(name, 64)} characters")
            if name == "country_code" and not (value.isalpha() and value.isupper()):
                e.add(name, "must be an ISO 3166 alpha-2 code such as GB")
            cols[name] = value
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
) -> dict[str, Any]:
    e = Errors()
    given = body.model_dump(exclude_unset=True)
    if "provider" in given and given.pop("provider") != provider_tenant_id:
        e.add("provider", "must be your own provider id (or left out)")
    cols = _columns(e, given)
    _check_location(e, given)
    if await _ref_taken(session, provider_tenant_id, body.ref):
        e.add("ref", "you already have an asset with this ref")
    e.raise_if_any()
    cols.setdefault("status", "in_development")
    asset = FmAsset(
        id=str(uuid.uuid4()),
        provider_tenant_id=provider_tenant_id,
        created=now,
        modified=now,
        **cols,
    )
    session.add(asset)
    await session.flush()
    view = wire.asset(asset)
    await session.commit()
    return view


async def find(session: AsyncSession, provider_tenant_id: str, asset_id: str) -> FmAsset:
    asset = await session.scalar(
        select(FmAsset).where(
            FmAsset.id == asset_id, FmAsset.provider_tenant_id == provider_tenant_id
        )
    )
    if asset is None:
        raise not_found("Asset")
    return asset


async def get(session: AsyncSession, provider_tenant_id: str, asset_id: str) -> dict[str, Any]:
    return wire.asset(await find(session, provider_tenant_id, asset_id))


async def update(
    session: AsyncSession, provider_tenant_id: str, asset_id: str, body: AssetPatch, now: datetime
) -> dict[str, Any]:
    """Change only the fields sent; the result must still have a location."""
    asset = await find(session, provider_tenant_id, asset_id)
    e = Errors()
    given = body.model_dump(exclude_unset=True)
    cols = _columns(e, given)
    current = wire.asset(asset)
    _check_location(e, {**current, **given})
    if given.get("ref") and await _ref_taken(session, provider_tenant_id, given["ref"], asset.id):
        e.add("ref", "you already have an asset with this ref")
    e.raise_if_any()
    for name, value in cols.items():
        setattr(asset, name, value)
    asset.modified = now
    await session.flush()
    view = wire.asset(asset)
    await session.commit()
    return view


async def list_assets(
    session: AsyncSession, provider_tenant_id: str, page: Page, ref: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    query = select(FmAsset).where(FmAsset.provider_tenant_id == provider_tenant_id)
    if ref is not None:
        query = query.where(FmAsset.ref == ref)
    rows, count = await fetch(session, query.order_by(FmAsset.created, FmAsset.id), page)
    return [wire.asset(a) for a in rows], count
