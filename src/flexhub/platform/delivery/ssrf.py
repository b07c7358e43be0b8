"""Keep webhook deliveries away from internal addresses unless the operator allows them.

URLs are checked before sending (scheme, literal IPs) and every name is resolved through a
resolver that drops disallowed addresses, so a DNS answer cannot redirect a delivery inward.
"""

from __future__ import annotations

import errno
import ipaddress
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class BlockedTarget(Exception):
    pass


def address_allowed(address: str, allow_private: bool) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if allow_private:
        return not ip.is_multicast and not ip.is_unspecified
    return ip.is_global and not ip.is_multicast


def validate_url(url: str) -> str | None:
    """A reason why ``url`` can never be a webhook target, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    try:
        _ = parts.port
    except ValueError:
        return "has an invalid port"
    return None


def check_url(url: str, allow_private: bool) -> None:
    reason = validate_url(url)
    if reason:
        raise BlockedTarget(f"webhook URL {reason}")
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return  # a name: the resolver filters its addresses
    if not address_allowed(host, allow_private):
        raise BlockedTarget(f"address {host} is not allowed as a webhook target")


class GuardedResolver(AbstractResolver):
    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if address_allowed(r["host"], self._allow_private)]
        if not allowed:
            raise OSError(  # errno + strerror: aiohttp shows the strerror in its message
                errno.EACCES, f"{host} resolves only to addresses not allowed as webhook targets"
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()
