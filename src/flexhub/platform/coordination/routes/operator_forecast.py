"""Operator endpoints: importing hourly needs (CSV or JSON, as ``flexhub platform forecast
import`` reads them), which override the built-in forecast for their hours."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.auth import Principal
from flexhub.platform.coordination.schemas.operator_grid import ForecastImportResponse
from flexhub.platform.coordination.services import forecast_import
from flexhub.platform.deps import get_session, system_operator

router = APIRouter(tags=["operator"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["neighbourhoodId", "timestamp", "needKw"],
                        "properties": {
                            "neighbourhoodId": {"type": "string"},
                            "timestamp": {"type": "string", "format": "date-time"},
                            "needKw": {"type": "number"},
                        },
                    },
                }
            },
        },
    }
}


@router.post("/operator/forecast/needs", response_model=ForecastImportResponse, openapi_extra=_BODY)
async def import_needs(
    request: Request,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> ForecastImportResponse:
    """Hourly need per neighbourhood (kW; positive = use less, negative = use more): a CSV
    (``text/csv``, header ``neighbourhoodId,timestamp,needKw``) or a JSON list."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    kind = "csv" if media in ("text/csv", "text/plain") else "json"
    rows = forecast_import.parse_or_400(await request.body(), kind)
    outcome = await forecast_import.import_needs(session, rows)
    return ForecastImportResponse(
        rows=outcome.rows,
        neighbourhoodIds=outcome.neighbourhoods,
        firstHour=outcome.first_hour,
        lastHour=outcome.last_hour,
    )
