"""Nobody sees another tenant's objects: someone else's id is a 404 (never data), lists leave
them out, and bodies naming them are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flexhub.platform.flexmarket.paging import Page
from flexhub.platform.flexmarket.schemas.filters import InstructionFilters, ObligationFilters
from flexhub.platform.flexmarket.services import availability, dispatch_read, obligations
from flexhub.platform.flexmarket.services.queries import scoped
from flexhub.store.flexmarket import FmAsset, FmDispatchInstruction
from support.fm import asset_body, market, now, obligation_body, ok


def not_found(r) -> bool:
    return r.status_code == 404 and list(r.json()) == ["detail"]


async def test_providers_see_only_their_own(make_partner):
    a = await market(make_partner)
    b = await market(make_partner)
    d = await ok(await a.dispatch(), 201)
    variation = {
        "start": "2030-07-01T00:00:00Z",
        "end": "2030-07-02T00:00:00Z",
        "available_capacity": "1",
    }
    await ok(
        await a.fsp.client.post(
            f"/obligations/v1/{a.obligation['id']}/availability-variations/", json=variation
        ),
        201,
    )
    spy = b.fsp.client
    ob, asset, comp = a.obligation["id"], a.asset["id"], a.competition["id"]
    for r in (
        await spy.get(f"/obligations/v1/{ob}/"),
        await spy.get(f"/obligations/v1/{ob}/availability-variations/"),
        await spy.post(f"/obligations/v1/{ob}/availability-variations/", json=variation),
        await spy.get(f"/competitions/v1/{comp}/"),
        await spy.get(f"/assets/v1/{asset}/"),
        await spy.patch(f"/assets/v1/{asset}/", json={"name": "x"}),
        await spy.get(f"/assets/v1/obligations/{ob}/"),
        await spy.get(f"/dispatches/v1/{d['id']}/"),
        await spy.post(f"/dispatches/v1/{d['id']}/accept/"),
        await spy.post(f"/dispatches/v1/{d['id']}/reject/", json={"reason": "mine"}),
    ):
        assert not_found(r), (r.request.url, r.status_code, r.text)
    for path, params in (
        ("/obligations/v1/", {}),
        ("/obligations/v1/", {"competition_id": comp}),
        ("/dispatches/v1/", {}),
        ("/dispatches/v1/", {"obligation_id": ob}),
        ("/assets/v1/", {"ref": a.asset["ref"]}),
    ):
        body = await ok(await spy.get(path, params=params))
        mine = {b.obligation["id"], b.asset["id"]}
        assert all(x["id"] in mine for x in body["results"]), path
    # the instruction is untouched
    assert (await ok(await a.fsp.client.get(f"/dispatches/v1/{d['id']}/")))["status"] == "pending"


async def test_system_operators_see_only_their_own(make_partner):
    a = await market(make_partner)
    b = await market(make_partner)
    d = await ok(await a.dispatch(), 201)
    spy = b.so.client
    for r in (
        await spy.get(f"/so/v1/competitions/{a.competition['id']}/"),
        await spy.get(f"/so/v1/obligations/{a.obligation['id']}/"),
        await spy.get(f"/so/v1/dispatches/{d['id']}/"),
        await spy.post(f"/so/v1/dispatches/{d['id']}/stop/"),
    ):
        assert not_found(r), (r.request.url, r.text)
    for path in (
        "/so/v1/competitions/",
        "/so/v1/obligations/",
        "/so/v1/dispatches/",
        "/so/v1/availability-variations/",
    ):
        body = await ok(await spy.get(path))
        assert a.competition["id"] not in str(body) and d["id"] not in str(body), path
    # B's SO cannot award under A's competition, nor dispatch against A's obligation
    body = obligation_body(a.competition, b.fsp.id, [])
    r = await spy.post("/so/v1/obligations/", json=body)
    assert r.status_code == 400 and "competition_id" in r.json()
    r = await spy.post("/so/v1/dispatches/", json=a.dispatch_body())
    assert r.status_code == 400 and "obligation_id" in r.json()
    # nor list another provider's assets under its own award
    foreign = await ok(await a.fsp.client.post("/assets/v1/", json=asset_body()), 201)
    body = obligation_body(b.competition, b.fsp.id, [foreign["id"]])
    r = await spy.post("/so/v1/obligations/", json=body)
    assert r.status_code == 400 and "assets.flex" in r.json()
    assert (await ok(await a.so.client.get(f"/so/v1/dispatches/{d['id']}/")))["id"] == d["id"]


async def test_so_references_are_per_system_operator(make_partner):
    a = await market(make_partner)
    b = await market(make_partner)
    first = await ok(await a.dispatch(so_reference="shared-ref"), 201)
    second = await ok(await b.dispatch(so_reference="shared-ref"), 201)
    assert first["id"] != second["id"]
    assert first["flex_provider_id"] == a.fsp.id and second["flex_provider_id"] == b.fsp.id


async def test_a_service_asked_without_a_tenant_refuses_instead_of_reading_all(test_db):
    """The services' lookups and lists take the caller's tenant; called with none (a bug in a
    caller) they fail loudly rather than run unscoped."""
    async with test_db.session() as session:
        for call in (
            lambda: dispatch_read.find(session, "any"),
            lambda: obligations.find(session, "any"),
            lambda: dispatch_read.list_instructions(session, now(), Page(), InstructionFilters()),
            lambda: obligations.list_obligations(session, now(), Page(), ObligationFilters()),
            lambda: availability.list_variations(session, Page()),
        ):
            with pytest.raises(ValueError, match="must be scoped to a tenant"):
                await call()
    with pytest.raises(ValueError):
        scoped(select(FmAsset), FmDispatchInstruction)
