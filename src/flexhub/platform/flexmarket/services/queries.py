"""Query helpers shared by the Flex Market services: tenant scoping and not-found answers.

Every Flex Market row names its tenants (``provider_tenant_id`` and/or ``so_tenant_id``).
:func:`scoped` narrows a query to the caller and refuses to build one for nobody, so that a
service called without a tenant fails loudly instead of reading every tenant's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import not_found


def tenant_clause(
    model: Any, provider_tenant_id: str | None = None, so_tenant_id: str | None = None
) -> ColumnElement[bool]:
    """``model``'s rows of the given provider and/or SO; at least one must be given."""
    clauses = []
    if provider_tenant_id is not None:
        clauses.append(model.provider_tenant_id == provider_tenant_id)
    if so_tenant_id is not None:
        clauses.append(model.so_tenant_id == so_tenant_id)
    if not clauses:
        raise ValueError(f"a query on {model.__tablename__} must be scoped to a tenant")
    return and_(*clauses)


def scoped(
    query: Any, model: Any, provider_tenant_id: str | None = None, so_tenant_id: str | None = None
) -> Any:
    """``query`` narrowed to the caller's rows (see :func:`tenant_clause`)."""
    return query.where(tenant_clause(model, provider_tenant_id, so_tenant_id))


async def one_or_404(session: AsyncSession, query: Any, what: str) -> Any:
    """The one row ``query`` (already scoped to the caller) finds; else a 404 naming ``what``:
    someone else's id is not found, exactly like an id that does not exist."""
    row = await session.scalar(query)
    if row is None:
        raise not_found(what)
    return row
