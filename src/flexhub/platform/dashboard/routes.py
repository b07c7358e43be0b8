"""The dashboard's pages. Signing in takes the client id and secret of an ``admin`` or
``system_operator`` partner and keeps an access token of the platform in an HttpOnly,
SameSite=Strict cookie scoped to ``/dashboard``; every page checks it as the APIs check a
bearer token. The pages are HTML; nothing here is part of either API."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.context import PlatformContext
from flexhub.platform.dashboard import charts, queries
from flexhub.platform.dashboard.queries import Viewer
from flexhub.platform.deps import authenticate_token, get_ctx, get_session
from flexhub.platform.errors import ApiError
from flexhub.platform.routing import include_flat
from flexhub.platform.token_routes import grant_token
from flexhub.web import PAGE_SIZE, render, static_file

ROOT = "/dashboard"
COOKIE = "flexhub_dashboard"
ROLES = ("admin", "system_operator")
NAV_SO = [
    ("/", "Overview"),
    ("/dispatches", "Dispatches"),
    ("/competitions", "Competitions"),
    ("/obligations", "Obligations"),
]
NAV_ADMIN = [
    *NAV_SO,
    ("/events", "Events"),
    ("/neighbourhoods", "Neighbourhoods"),
    ("/webhooks", "Webhooks"),
    ("/deliveries", "Deliveries"),
]

router = APIRouter(prefix=ROOT, include_in_schema=False)


class SignIn(Exception):
    """No valid dashboard session: answered with a redirect to the sign-in page."""


async def viewer(request: Request, ctx: PlatformContext = Depends(get_ctx)) -> Viewer:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignIn
    try:
        principal = await authenticate_token(ctx, token)
    except ApiError:
        raise SignIn from None
    if principal.role not in ROLES:
        raise SignIn
    return Viewer(principal.tenant_id, principal.role, principal.name)


def _page(name: str, who: Viewer | None, active: str, **context: Any) -> HTMLResponse:
    nav = [] if who is None else (NAV_ADMIN if who.admin else NAV_SO)
    html = render(
        name,
        root=ROOT,
        site="flexhub platform",
        nav=nav,
        active=active,
        who=f"{who.name} ({who.role})" if who else None,
        page_size=PAGE_SIZE,
        **context,
    )
    return HTMLResponse(html)


def _admin(who: Viewer) -> None:
    if not who.admin:
        raise SignIn


@router.get("/static/{name}")
async def static(name: str) -> Response:
    path = static_file(name)
    if path is None:
        return Response(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "max-age=3600"})


@router.get("/login")
async def login_form(error: str | None = None) -> HTMLResponse:
    hint = "Sign in with the client id and secret of an admin or system operator partner."
    return _page("login.html", None, "", title="Sign in", hint=hint, error=error)


@router.post("/login")
async def login(
    request: Request,
    ctx: PlatformContext = Depends(get_ctx),
    session: AsyncSession = Depends(get_session),
) -> Response:
    try:
        form = await request.form()
    except Exception:  # not a form: treated as no credentials
        form = {}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        client_id = client_secret = ""
    try:
        token = await grant_token(ctx, session, request, client_id, client_secret, "refused")
        principal = await authenticate_token(ctx, token)
    except ApiError as exc:
        why = (
            "Too+many+attempts;+try+again+later"
            if exc.status == 429
            else "Unknown+client+or+wrong+secret"
        )
        return RedirectResponse(f"{ROOT}/login?error={why}", 303)
    if principal.role not in ROLES:
        return RedirectResponse(f"{ROOT}/login?error=This+partner+may+not+use+the+dashboard", 303)
    settings = ctx.settings
    response = RedirectResponse(f"{ROOT}/", 303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.token_ttl_seconds,
        path=ROOT,
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
    )
    return response


@router.get("/logout")
async def logout() -> Response:
    response = RedirectResponse(f"{ROOT}/login", 303)
    response.delete_cookie(COOKIE, path=ROOT)
    return response


@router.get("/")
async def overview(
    who: Viewer = Depends(viewer), session: AsyncSession = Depends(get_session)
) -> HTMLResponse:
    data = await queries.overview(session, who)
    figures = {
        "instructions": charts.counts(
            "Dispatch instructions by status", data["instructions"], charts.STATUS_COLOURS
        )
    }
    latest = None
    if who.admin:
        figures["outbox"] = charts.counts(
            "Webhook notifications by status", data["outbox"], charts.STATUS_COLOURS
        )
        rows = await queries.events(session, 1, 1, "PriceCurve")
        if rows.items:
            latest = rows.items[0]
            figures["price_curve"] = charts.price_curve(latest.payload)
    return _page(
        "platform/overview.html",
        who,
        "/",
        title="Overview",
        data=data,
        figures=figures,
        latest=latest,
    )


@router.get("/dispatches")
async def dispatches(
    page: int = Query(1, ge=1),
    status: str | None = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    rows = await queries.instructions(session, who, page, PAGE_SIZE, status)
    names = await queries.partner_names(session)
    counts: dict[str, Counter] = {}
    for provider in {r.provider_tenant_id for r in rows.items}:
        ids = [r.id for r in rows.items if r.provider_tenant_id == provider]
        counts.update(await queries.delivery_counts(session, provider, ids))
    base = f"{ROOT}/dispatches" + (f"?status={status}" if status else "")
    return _page(
        "platform/dispatches.html",
        who,
        "/dispatches",
        title="Dispatch instructions",
        rows=rows,
        names=names,
        counts=counts,
        base=base,
        status=status,
    )


@router.get("/dispatches/{instruction_id}")
async def dispatch(
    instruction_id: str,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    row = await queries.instruction(session, who, instruction_id)
    if row is None:
        return _page(
            "platform/missing.html",
            who,
            "/dispatches",
            title="Not found",
            what=f"dispatch instruction {instruction_id}",
        )
    notes = await queries.notifications_about(session, row.provider_tenant_id, row.id)
    names = await queries.partner_names(session)
    return _page(
        "platform/dispatch.html",
        who,
        "/dispatches",
        title=f"Instruction {row.id}",
        row=row,
        notes=notes,
        names=names,
    )


@router.get("/competitions")
async def competitions(
    page: int = Query(1, ge=1),
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    rows = await queries.competitions(session, who, page, PAGE_SIZE)
    names = await queries.partner_names(session)
    return _page(
        "platform/competitions.html",
        who,
        "/competitions",
        title="Competitions",
        rows=rows,
        names=names,
        base=f"{ROOT}/competitions",
    )


@router.get("/obligations")
async def obligations(
    page: int = Query(1, ge=1),
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    rows = await queries.obligations(session, who, page, PAGE_SIZE)
    names = await queries.partner_names(session)
    return _page(
        "platform/obligations.html",
        who,
        "/obligations",
        title="Obligations",
        rows=rows,
        names=names,
        base=f"{ROOT}/obligations",
    )


@router.get("/events")
async def events(
    page: int = Query(1, ge=1),
    type: str | None = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    _admin(who)
    rows = await queries.events(session, page, PAGE_SIZE, type)
    names = await queries.partner_names(session)
    base = f"{ROOT}/events" + (f"?type={type}" if type else "")
    return _page(
        "platform/events.html",
        who,
        "/events",
        title="Energy Coordination events",
        rows=rows,
        names=names,
        base=base,
        type=type,
    )


@router.get("/events/{event_id}")
async def event(
    event_id: str,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    _admin(who)
    row = await queries.event(session, event_id)
    if row is None:
        return _page(
            "platform/missing.html", who, "/events", title="Not found", what=f"event {event_id}"
        )
    figure = charts.price_curve(row.payload) if row.payload_type == "PriceCurve" else None
    notes = await queries.event_notifications(session, row.id)
    names = await queries.partner_names(session)
    return _page(
        "platform/event.html",
        who,
        "/events",
        title=f"Event {row.id}",
        row=row,
        figure=figure,
        notes=notes,
        names=names,
    )


def rings_of(area: Any) -> list[list[list[float]]]:
    """The outer rings of a neighbourhood's area, as ``[lon, lat]`` lists."""
    geometry = getattr(area, "geometry", None)
    if isinstance(geometry, dict):
        if geometry.get("type") == "Polygon":
            return [geometry["coordinates"][0]]
        if geometry.get("type") == "MultiPolygon":
            return [polygon[0] for polygon in geometry["coordinates"]]
    polygon = getattr(area, "polygon", None)
    return [polygon] if polygon else []


@router.get("/neighbourhoods")
async def neighbourhoods(
    page: int = Query(1, ge=1),
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    _admin(who)
    rows = await queries.neighbourhoods(session, page, PAGE_SIZE)
    figure = charts.outlines((n.name, rings_of(n)) for n in rows.items)
    return _page(
        "platform/neighbourhoods.html",
        who,
        "/neighbourhoods",
        title="Neighbourhoods",
        rows=rows,
        figure=figure,
        base=f"{ROOT}/neighbourhoods",
    )


@router.get("/webhooks")
async def webhooks(
    who: Viewer = Depends(viewer), session: AsyncSession = Depends(get_session)
) -> HTMLResponse:
    _admin(who)
    ec, fm = await queries.webhooks(session)
    health = await queries.webhook_health(session)
    names = await queries.partner_names(session)
    return _page(
        "platform/webhooks.html",
        who,
        "/webhooks",
        title="Webhooks",
        ec=ec,
        fm=fm,
        health=health,
        names=names,
    )


@router.get("/deliveries")
async def deliveries(
    page: int = Query(1, ge=1),
    partner: str | None = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> HTMLResponse:
    _admin(who)
    rows = await queries.deliveries(session, page, PAGE_SIZE, partner)
    names = await queries.partner_names(session)
    base = f"{ROOT}/deliveries" + (f"?partner={partner}" if partner else "")
    return _page(
        "platform/deliveries.html",
        who,
        "/deliveries",
        title="Webhook deliveries",
        rows=rows,
        names=names,
        base=base,
        partner=partner,
    )


def install(app: Any) -> None:
    """Mount the pages; a request without a valid session is sent to the sign-in page."""

    async def _sign_in(request: Request, exc: SignIn) -> Response:
        return RedirectResponse(f"{ROOT}/login", 303)

    app.add_exception_handler(SignIn, _sign_in)
    include_flat(app.router, router)
