"""Which network addresses a webhook may reach, and every way a host can spell one.

- :func:`normalise_host`: what an HTTP client makes of a URL's host before it connects: Unicode
  compatibility forms folded (fullwidth and circled digits, ideographic and fullwidth dots, as
  IDNA/UTS 46 and yarl do), lower case, one trailing dot dropped.
- :func:`parse_address`: an IP address in any spelling a resolver or socket library accepts:
  IPv6 (bracketless), and IPv4 the way ``inet_aton`` reads it: one to four parts, each decimal,
  octal (leading ``0``) or hexadecimal (``0x``), the last filling the remaining bytes
  (``127.1``, ``0x7f000001``, ``2130706433``, ``0177.0.0.01``).
- :func:`address_allowed`: public unicast only (unless private targets are allowed, for demos
  and tests); an IPv6 address that carries an IPv4 one (mapped, compatible, 6to4, NAT64,
  Teredo) is judged by that one too. Link-local, cloud metadata, multicast, unspecified and
  reserved addresses are refused even when private targets are allowed.
- :func:`name_problem`: host names that are internal by definition (``localhost``,
  ``*.internal``, metadata services), refused before any lookup.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata

import idna

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Dots that NFKC leaves alone but IDNA (UTS 46) and browsers read as label separators.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")

# Always refused, even with private targets allowed: nothing a webhook should ever reach.
_NEVER = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network": 0.0.0.0 connects to the local host on Linux
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254, 169.254.170.2)
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.192/32",  # Oracle Cloud metadata
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
]
_NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]
_COMPATIBLE = ipaddress.ip_network("::/96")

# Names that are internal by definition (RFC 6761, RFC 8375, mDNS, cloud metadata services).
_INTERNAL_NAMES = {"localhost", "metadata", "instance-data", "localhost.localdomain"}
_INTERNAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home.arpa",
    ".arpa",
)
_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")


def normalise_host(host: str) -> str:
    """The host as a client will look it up or connect to it."""
    folded = unicodedata.normalize("NFKC", host).translate(_DOTS)
    # not a valid IDNA name: kept as folded so far; the URL check refuses its characters
    with contextlib.suppress(idna.IDNAError):
        folded = idna.uts46_remap(folded, std3_rules=False, transitional=False)
    folded = folded.lower()
    return folded[:-1] if folded.endswith(".") and not folded.endswith("..") else folded


def _ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part[0] == "0":
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + last
    return ipaddress.IPv4Address(value)


def parse_address(host: str) -> IPAddress | None:
    """The IP address ``host`` spells (already normalised, brackets removed), or None for a name.
    An IPv6 zone (``%eth0``) is dropped: the address decides."""
    text = host.split("%", 1)[0]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return _ipv4_spelling(text)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and a network may deliver to."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64):
        found.append(low32)
    if ip in _COMPATIBLE and int(ip) > 1:
        found.append(low32)
    if (int(ip) >> 32) == 0xFFFF0000:  # ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765)
        found.append(low32)
    return found


def _one_allowed(ip: IPAddress, allow_private: bool) -> bool:
    if any(ip in net for net in _NEVER if net.version == ip.version):
        return False
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved and ip.version == 4:
        return False
    return True if allow_private else ip.is_global


def address_allowed(address: str | IPAddress, allow_private: bool) -> bool:
    """May a webhook delivery connect to this address?"""
    if isinstance(address, str):
        ip = parse_address(normalise_host(address.strip("[]")))
        if ip is None:
            return False
    else:
        ip = address
    if not _one_allowed(ip, allow_private):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(_one_allowed(v4, allow_private) for v4 in embedded_ipv4(ip))
    return True


def name_problem(name: str, allow_private: bool) -> str | None:
    """Why a (normalised) host name cannot be a webhook target, or None."""
    if not _NAME.fullmatch(name) or len(name) > 253:
        return "must name a host with letters, digits, hyphens and dots only"
    if allow_private:
        return None
    if name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        return f"names the internal host {name}, which is not allowed as a webhook target"
    return None
