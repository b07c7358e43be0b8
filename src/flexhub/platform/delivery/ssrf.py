"""Which URLs may be webhook targets: the one check both APIs use, when a webhook is registered
(each API words the reason in its own error format) and again before every delivery; and the
guard on the delivery client's connections.

A target is an absolute http(s) URI (printable ASCII, no spaces or backslashes) naming a host;
its host is read the way the delivery client reads it (Unicode folded, every IPv4 spelling, see
``addresses.py``), and must not name a non-public address or an internal name unless the
operator allows private targets. At delivery, :class:`GuardedResolver` drops disallowed
addresses from DNS answers and :func:`guarded_socket` refuses to open a connection to one,
whatever the URL said, so a DNS answer (rebinding included) cannot turn a delivery inward.
Redirects are never followed (the worker posts with ``allow_redirects=False``).
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from flexhub.platform.delivery.addresses import (
    address_allowed,
    name_problem,
    normalise_host,
    parse_address,
)

_URI_TEXT = re.compile(r"[!-~]*")  # printable ASCII, no spaces: what a URI may hold

__all__ = [
    "BlockedTarget",
    "GuardedResolver",
    "address_allowed",
    "check_url",
    "guarded_socket",
    "url_problem",
]


class BlockedTarget(Exception):
    pass


def _address_problem(written: str, host: str, allow_private: bool) -> str | None:
    ip = parse_address(host)
    if ip is None:
        return None
    if address_allowed(ip, allow_private):
        return None
    spelled = "" if written == str(ip) else f" (written {written})"
    return f"names the address {ip}{spelled}, which is not allowed as a webhook target"


@functools.lru_cache(maxsize=4096)
def url_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` cannot be a webhook target, as a phrase that follows "the URL" ("must be an
    http or https URL"), or None when it may be one. The answer depends on the text alone (names
    are resolved at connection time, by :class:`GuardedResolver`), so it is remembered: the
    worker checks every delivery's URL again, and the check costs ~35 µs where a batch's rows
    mostly share a few URLs."""
    try:
        parts = urlsplit(url)
        written = parts.hostname or ""
    except ValueError:
        return "is not a valid URL"
    host = normalise_host(written)
    # first what the host means, however it is spelled: a refused address is named as such
    reason = _address_problem(written, host, allow_private)
    if reason:
        return reason
    if not _URI_TEXT.fullmatch(url):
        return (
            "must be a URI: percent-encode spaces, control and non-ASCII characters, write no "
            "backslashes and give an international domain name in its ASCII (xn--) form"
        )
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not host:
        return "must name a host"
    try:
        _ = parts.port
    except ValueError:
        return "has an invalid port"
    try:
        client_host = normalise_host(URL(url).raw_host or "")
    except ValueError:
        return "is not a valid URL"
    if client_host != host:  # two parsers disagree on the host: refuse rather than guess
        return "is ambiguous: its host cannot be told for certain"
    if parse_address(host) is not None:
        if "%" in host:
            return "must not give an IPv6 zone"
        return None
    return name_problem(host, allow_private)


def check_url(url: str, allow_private: bool) -> None:
    """:func:`url_problem` as an exception, for the delivery worker."""
    reason = url_problem(url, allow_private)
    if reason:
        raise BlockedTarget(f"webhook URL {reason}")


class GuardedResolver(AbstractResolver):
    """A resolver that answers only with addresses a webhook may reach."""

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


def connection_problem(sockaddr: tuple[Any, ...], allow_private: bool) -> str | None:
    """Why the delivery client may not connect to ``sockaddr``, or None."""
    try:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
    except (ValueError, IndexError, AttributeError):
        return f"{sockaddr!r} is not an IP socket address"
    if not address_allowed(ip, allow_private):
        return f"connecting to {ip} is not allowed for webhook deliveries"
    return None


def guarded_socket(allow_private: bool):
    """A socket factory for the delivery client's connector: it refuses to create the socket for
    a disallowed address, so no connection is attempted, whatever name or spelling led there."""

    def factory(addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        reason = connection_problem(sockaddr, allow_private)
        if reason:
            raise OSError(errno.EACCES, reason)
        return socket.socket(family=family, type=type_, proto=proto)

    return factory
