"""Where a webhook may be delivered. A URL is parsed properly, its host resolved, and every
address it resolves to must be public: loopback, private, link-local, CGNAT, multicast,
unspecified and reserved addresses are refused (also when hidden as IPv4-mapped, 6to4,
Teredo or NAT64 IPv6, or spelled `0x7f000001` / `127.1`). Checked when the job is
submitted and again at delivery, which then connects to the address it checked (no
DNS-rebinding window)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from kazru_stt.config import Settings
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError

MAX_URL = 2048
# IPv6 forms whose last 32 bits are an IPv4 address a connection may reach: NAT64 (well-known
# and local-use prefixes), IPv4-compatible (::a.b.c.d, deprecated but still routed by some
# stacks) and IPv4-translated (::ffff:0:a.b.c.d, SIIT: ::ffff:0:0:0/96).
_LOW_32_BITS_V4 = [
    ipaddress.ip_network(net)
    for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
]


class WebhookTargetError(InvalidOptionError):
    code = ErrorCode.WEBHOOK_URL_BLOCKED


@dataclass(frozen=True)
class Target:
    url: str  # as the user gave it (normalized scheme and host)
    scheme: str
    host: str
    port: int
    address: str  # the checked address to connect to


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in net for net in _LOW_32_BITS_V4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_v4(ip)) is not None:
        ip = inner
    return ip.is_global and not ip.is_multicast


def redact(url: str | None) -> str:
    """A URL fit for a log line: scheme, host and port only (no user:pass, path, query)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid url>"
    return f"{parts.scheme}://{host}{port}/…"


def parse(url: str) -> tuple[str, str, int, str]:
    url = (url or "").strip()
    if len(url) > MAX_URL:
        raise InvalidOptionError(
            f"webhook_url is longer than {MAX_URL} characters", code=ErrorCode.INVALID_WEBHOOK_URL
        )
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidOptionError(
            "webhook_url is not a valid URL", code=ErrorCode.INVALID_WEBHOOK_URL
        ) from exc
    if scheme not in ("http", "https") or not host:
        raise InvalidOptionError(
            "webhook_url must be an http(s) URL with a host", code=ErrorCode.INVALID_WEBHOOK_URL
        )
    normalized = parts._replace(scheme=scheme).geturl()
    return normalized, scheme, port, host


def resolve(url: str, settings: Settings) -> Target:
    """The checked delivery target of `url`, or WebhookTargetError / InvalidOptionError."""
    normalized, scheme, port, host = parse(url)
    allowed = [h.strip().lower() for h in settings.webhook_allow_hosts.split(",") if h.strip()]
    if allowed and host not in allowed:
        raise WebhookTargetError(f"webhooks may not be sent to {host} (not in the allow-list)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidOptionError(
            f"the webhook host {host} cannot be resolved", code=ErrorCode.INVALID_WEBHOOK_URL
        ) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise InvalidOptionError(
            f"the webhook host {host} has no address", code=ErrorCode.INVALID_WEBHOOK_URL
        )
    if not settings.webhook_allow_private:
        blocked = [a for a in addresses if not is_public(a)]
        if blocked:  # one private address is enough to refuse: DNS could rotate to it
            raise WebhookTargetError(
                f"webhooks may not be sent to {host}: it resolves to a non-public address"
            )
    return Target(normalized, scheme, host, port, addresses[0])
