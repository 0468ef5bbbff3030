"""POSTing a delivery without being turned against our own network (SSRF).

The host is resolved once, every address it resolves to must be public (not
private, loopback, link-local such as the cloud metadata address, shared, reserved
or multicast; for an IPv6 address carrying an IPv4 one, mapped, 6to4, NAT64 or
compatible, the IPv4 one), and the request connects to the checked address itself,
with the name kept for `Host` and TLS (SNI and certificate), so a DNS answer that
changes between the check and the connection (rebinding) changes nothing.
Redirects are never followed and proxies from the environment never used.
WEBHOOK_ALLOW_PRIVATE_TARGETS lifts the address rule (tests, closed networks).
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be called: a bad scheme, or an address that is not public."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# IPv6 ranges whose last 32 bits (or, for 6to4, bits 16-48) are an IPv4 address a
# translator or tunnel delivers to: NAT64 (well-known and local-use), IPv4-compatible
# and IPv4-translated. The IPv4 address inside is what must be public.
_NAT64_AND_COMPATIBLE = tuple(
    ipaddress.ip_network(net)
    for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64_AND_COMPATIBLE):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress) -> bool:
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        address = _embedded_ipv4(address) or address
    return address.is_global and not address.is_multicast


def url_parts(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an endpoint URL; refused unless http(s) with a
    host and no credentials (they would sit in logs and the admin), and with nothing
    the HTTP client would refuse to send (spaces, control characters)."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise TargetRefused("the URL has spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"not a valid URL: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise TargetRefused("only http and https URLs are allowed")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed; the signature authenticates")
    try:
        # The ASCII (IDNA) form: what DNS is asked and what the Host header can carry.
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise TargetRefused(f"the host is not a valid name: {error}") from error
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def target_resolve(url: str) -> Target:
    """The URL's target at one checked address; TargetRefused if any address is not
    public or the name does not resolve."""
    scheme, host, port, path = url_parts(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"the host does not resolve ({error})") from error
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused("the host does not resolve")
    # Which address it was stays unsaid: the message reaches whoever registers URLs,
    # and naming it would map the internal DNS for them.
    if not all(address_allowed(a) for a in addresses):
        raise TargetRefused("the host resolves to an address that is not public")
    return Target(scheme, host, port, path, addresses[0])


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


async def _status_of(url: str, body: bytes, headers: dict[str, str], sni_host: str) -> int:
    async with (
        httpx.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        ) as client,
        client.stream(
            "POST", url, content=body, headers=headers, extensions={"sni_hostname": sni_host}
        ) as response,
    ):
        return response.status_code


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """One attempt: the status code, or the reason there is none. WEBHOOK_TIMEOUT_SECONDS
    bounds the whole attempt, not each read: a receiver sending its answer a byte at a
    time would otherwise hold the worker (or, with no broker, the request) at will."""
    try:
        target = target_resolve(url)
    except TargetRefused as error:
        return Outcome(None, f"refused: {error}")
    literal = (
        f"[{target.address}]"
        if isinstance(target.address, ipaddress.IPv6Address)
        else str(target.address)
    )
    host_header = (
        target.host
        if target.port == _default_port(target.scheme)
        else (f"{target.host}:{target.port}")
    )
    request_url = f"{target.scheme}://{literal}:{target.port}{target.path}"
    deadline = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        status = asyncio.run(
            asyncio.wait_for(
                _status_of(request_url, body, {**headers, "Host": host_header}, target.host),
                timeout=deadline,
            )
        )
    except TimeoutError:
        return Outcome(None, f"timed out: no answer within {deadline:g} seconds in all")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return Outcome(None, f"{type(error).__name__}: {error}"[:500])
    if 300 <= status < 400:
        return Outcome(status, "redirect not followed")
    if not 200 <= status < 300:
        return Outcome(status, f"HTTP {status}")
    return Outcome(status, "")
