"""Webhook targets: parsing, every way of spelling a private address, redaction, and the
signature a receiver checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from kazru_stt.config import Settings
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.services.webhook_targets import is_public, redact, resolve
from kazru_stt.services.webhooks import sign
from tests.test_hardening import BLOCKED


@pytest.mark.parametrize("url", BLOCKED)
def test_private_targets_are_refused(url):
    with pytest.raises(InvalidOptionError) as info:
        resolve(url, Settings())
    assert info.value.code == "webhook_url_blocked"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "::",
        "224.0.0.251",
        "ff02::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "240.0.0.1",
        # IPv4-compatible and IPv4-translated forms of loopback, and local-use NAT64.
        "::127.0.0.1",
        "::ffff:0:127.0.0.1",
        "64:ff9b:1::a00:1",
    ],
)
def test_non_public_addresses(address):
    assert not is_public(address)


def test_public_addresses_pass():
    assert is_public("8.8.8.8") and is_public("2001:4860:4860::8888")


@pytest.mark.parametrize(
    "url", ["ftp://x.kz/", "javascript:alert(1)", "http://", "http://a:b:c/", "x" * 3000]
)
def test_malformed_urls(url):
    with pytest.raises(InvalidOptionError) as info:
        resolve(url, Settings())
    assert info.value.code == "invalid_webhook_url"


def test_allow_private_and_allow_list():
    target = resolve("HTTP://127.0.0.1:8080/hook?t=1", Settings(webhook_allow_private=True))
    assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", 8080)
    assert target.url.startswith("http://127.0.0.1:8080/hook")
    listed = Settings(webhook_allow_private=True, webhook_allow_hosts="hooks.example.kz")
    with pytest.raises(InvalidOptionError):
        resolve("http://127.0.0.1/", listed)


def test_redact_keeps_only_scheme_host_port():
    assert redact("https://user:pass@hooks.kz:8443/p/a?token=secret") == "https://hooks.kz:8443/…"


def test_signature_covers_timestamp_and_body():
    body = b'{"id": "1"}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, body) == "sha256=" + expected
    assert sign("k", 1700000001, body) != sign("k", 1700000000, body)


def test_placeholder_secret_is_refused_at_start():
    with pytest.raises(ValueError):
        Settings(webhook_secret="change-me")
    with pytest.raises(ValueError):
        Settings(webhook_secret="short")
