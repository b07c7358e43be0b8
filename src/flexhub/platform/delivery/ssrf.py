"""Which URLs may be webhook targets: the one check both APIs use, when a webhook is registered
(each API words the reason in its own error format) and again before every delivery.

A target is an absolute http(s) URI (printable ASCII, no spaces) naming a host; a literal
address must be public unless the operator allows private ones. Names are resolved at delivery
through :class:`GuardedResolver`, which drops disallowed addresses, so a DNS answer cannot
redirect a delivery inward.
"""

from __future__ import annotations

import errno
import ipaddress
import re
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

_URI_TEXT = re.compile(r"[!-~]*")  # printable ASCII, no spaces: what a URI may hold


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


def url_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` cannot be a webhook target, as a phrase that follows "the URL" ("must be an
    http or https URL"), or None when it may be one."""
    if not _URI_TEXT.fullmatch(url):
        return (
            "must be a URI: percent-encode spaces, control and non-ASCII characters and give "
            "an international domain name in its ASCII (xn--) form"
        )
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
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: the resolver filters its addresses at delivery
    if not address_allowed(host, allow_private):
        return f"names the address {host}, which is not allowed as a webhook target"
    return None


def check_url(url: str, allow_private: bool) -> None:
    """:func:`url_problem` as an exception, for the delivery worker."""
    reason = url_problem(url, allow_private)
    if reason:
        raise BlockedTarget(f"webhook URL {reason}")


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
