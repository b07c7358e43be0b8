"""Finding 1 (issue 11): webhook targets that reach inside. Spellings of private addresses
(Unicode digits and dots, decimal, octal, hex and short IPv4 forms, IPv6 forms embedding IPv4)
and internal names are refused at registration; at delivery the client refuses to connect to a
non-public address whatever the URL said, including a public-looking name that resolves inside.

Only loopback is ever connected to here: spellings of other private ranges are checked against
the guard's functions, never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexhub.platform.delivery.addresses import address_allowed, normalise_host, parse_address
from flexhub.platform.delivery.ssrf import connection_problem, url_problem
from flexhub.platform.delivery.worker import delivery_client
from support.databases import platform_settings

PRIVATE_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
NEVER_V4 = ["169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/4"]  # refused even with private allowed

FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
CIRCLED = {"0": "\u24ea", **{str(d): chr(0x2460 + d - 1) for d in range(1, 10)}}
BOLD = {str(d): chr(0x1D7CE + d) for d in range(10)}
DOTS = [".", "\u3002", "\uff0e", "\uff61"]


def addresses_in(networks: list[str]) -> st.SearchStrategy[ipaddress.IPv4Address]:
    nets = [ipaddress.ip_network(n) for n in networks]
    return st.sampled_from(nets).flatmap(
        lambda n: st.integers(int(n.network_address), int(n.broadcast_address)).map(
            ipaddress.IPv4Address
        )
    )


def _number(value: int, style: str) -> str:
    if style == "oct":
        return "0" + format(value, "o")
    if style == "hex":
        return "0x" + format(value, "x")
    if style == "HEX":
        return "0X" + format(value, "X")
    return str(value)


@st.composite
def ipv4_spellings(draw, address: ipaddress.IPv4Address) -> str:
    """Every way inet_aton reads an address: 1 to 4 parts, each decimal, octal or hex."""
    octets = list(address.packed)
    parts = draw(st.integers(1, 4))
    head = octets[: parts - 1]
    tail = int.from_bytes(bytes(octets[parts - 1 :]), "big")
    styles = st.sampled_from(["dec", "oct", "hex", "HEX"])
    text = ".".join([_number(o, draw(styles)) for o in head] + [_number(tail, draw(styles))])
    return text + draw(st.sampled_from(["", "."]))


@st.composite
def unicode_spelling(draw, text: str) -> str:
    """The same text with some digits and dots swapped for compatibility forms."""
    out = []
    for ch in text:
        if ch.isdigit() and draw(st.booleans()):
            out.append(draw(st.sampled_from([FULLWIDTH, CIRCLED, BOLD]))[ch])
        elif ch == "." and draw(st.booleans()):
            out.append(draw(st.sampled_from(DOTS)))
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def ipv6_carrying(draw, address: ipaddress.IPv4Address) -> str:
    v4 = int(address)
    hi, lo = v4 >> 16, v4 & 0xFFFF
    form = draw(st.sampled_from(["mapped", "mapped-dotted", "compat", "6to4", "nat64", "nat64l"]))
    text = {
        "mapped": f"::ffff:{hi:x}:{lo:x}",
        "mapped-dotted": f"::ffff:{address}",
        "compat": f"::{hi:x}:{lo:x}",
        "6to4": f"2002:{hi:x}:{lo:x}::{draw(st.integers(0, 0xFFFF)):x}",
        "nat64": f"64:ff9b::{hi:x}:{lo:x}",
        "nat64l": f"64:ff9b:1::{hi:x}:{lo:x}",
    }[form]
    if draw(st.booleans()):
        text = ipaddress.IPv6Address(text).exploded
    return text.upper() if draw(st.booleans()) else text


def private_hosts(networks: list[str]) -> st.SearchStrategy[str]:
    v4 = addresses_in(networks)
    return st.one_of(
        v4.flatmap(ipv4_spellings).flatmap(unicode_spelling),
        v4.flatmap(ipv6_carrying).map(lambda h: f"[{h}]"),
    )


@settings(max_examples=400, deadline=None)
@given(host=private_hosts(PRIVATE_V4), port=st.sampled_from(["", ":80", ":8443"]))
def test_no_spelling_of_a_private_address_registers(host, port):
    assert url_problem(f"http://{host}{port}/hook", allow_private=False) is not None, host


@settings(max_examples=200, deadline=None)
@given(host=private_hosts(NEVER_V4))
def test_link_local_multicast_and_this_network_are_refused_even_when_private_is_allowed(host):
    assert url_problem(f"https://{host}/hook", allow_private=True) is not None, host


@settings(max_examples=300, deadline=None)
@given(address=addresses_in(PRIVATE_V4).flatmap(ipv6_carrying))
def test_no_connection_to_an_ipv6_address_carrying_a_private_one(address):
    assert connection_problem((address, 443, 0, 0), allow_private=False) is not None
    assert not address_allowed(address, allow_private=False)


@pytest.mark.parametrize(
    "host",
    [
        "127\u30020\u30020\u30021",
        "127\uff0e0\uff0e0\uff0e1",
        "\uff11\uff12\uff17.0.0.1",
        "\u2460\u2461\u2466.0.0.1",
        "127.0.0.\uff11",
        "127\uff610\uff610\uff611",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
        "[::7f00:1]",
        "[::ffff:127.0.0.1]",
        "metadata.google.internal",
        "2852039166",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "017700000001",
        "localhost",
        "LOCALHOST.",
        "printer.local",
        "instance-data",
        "[fe80::1%25eth0]",
        "169.254.169.254",
    ],
)
def test_the_spellings_found_in_the_audit_are_refused(host):
    assert url_problem(f"http://{host}:8080/x", allow_private=False) is not None


def test_parser_tricks_and_public_targets():
    assert url_problem("http://127.0.0.1\\@example.com/", allow_private=False) is not None
    assert url_problem("http://example.com@127.0.0.1/", allow_private=False) is not None
    assert url_problem("http://127%2e0%2e0%2e1/", allow_private=False) is not None
    for ok in ("https://example.com/hook", "https://93.184.215.14/x", "http://[2606:4700::1]/"):
        assert url_problem(ok, allow_private=False) is None, ok
    assert parse_address("2852039166") == ipaddress.IPv4Address("169.254.169.254")
    assert parse_address("0x7f.1") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_address("256.1") is None and parse_address("1.2.3.4.5") is None


class ConnectionCounter:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    counter = ConnectionCounter()
    yield counter
    counter.close()


LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
LOOPBACK_SPELLINGS = st.one_of(
    ipv4_spellings(LOOPBACK).flatmap(unicode_spelling),
    st.sampled_from(["[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost", socket.gethostname()]),
)


async def _post(url: str, tmp_path) -> str:
    settings_ = platform_settings("sqlite://", tmp_path, webhook_allow_private=False)
    async with delivery_client(settings_) as http:
        try:
            async with http.post(url, data=b"{}", allow_redirects=False) as resp:
                return f"answered {resp.status}"
        except Exception as exc:  # what the worker would log
            return f"{type(exc).__name__}: {exc}"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(host=LOOPBACK_SPELLINGS)
def test_the_delivery_client_never_connects_to_loopback(host, listener, tmp_path):
    """The URL check is skipped here: the connection guard alone must hold. (Some spellings
    never get that far: aiohttp refuses non-canonical IPv4 literals, the system resolver does
    not know others; none may connect.)"""
    before = listener.accepted
    outcome = asyncio.run(_post(f"http://{host}:{listener.port}/hook", tmp_path))
    assert listener.accepted == before, (host, outcome)
    assert not outcome.startswith("answered"), (host, outcome)
    try:  # a canonical literal or a known name reaches the connection guard, which refuses
        reaches_guard = bool(ipaddress.ip_address(normalise_host(host.strip("[]"))))
    except ValueError:
        reaches_guard = host in ("localhost", socket.gethostname())
    if reaches_guard:
        # refused by the guard, or earlier by aiohttp itself (a literal with a trailing dot)
        assert "not allowed" in outcome or "not a canonical" in outcome, (host, outcome)
