"""The SSRF guard: only public addresses, every resolved address checked, and the
connection made to the address that was checked."""

import socket

import pytest

from webhooks import transport
from webhooks.tests.receiver import running_receiver


@pytest.fixture(autouse=True)
def _private_targets_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/hook",  # shared address space
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://localhost/hook",  # a name that resolves to loopback
        "http://localhost.:8080/hook",
    ],
)
def test_private_loopback_link_local_and_metadata_targets_are_refused(url):
    with pytest.raises(transport.TargetRefused):
        transport.target_resolve(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "http://user:pass@example.com/hook",
        "http:///no-host",
        "http://[::1/hook",
    ],
)
def test_other_schemes_credentials_and_malformed_urls_are_refused(url):
    with pytest.raises(transport.TargetRefused):
        transport.url_parts(url) if "example.com" in url else transport.target_resolve(url)


def test_a_name_is_refused_when_any_of_its_addresses_is_private(monkeypatch):
    real = socket.getaddrinfo

    def two_answers(host, *args, **kwargs):
        if host == "mixed.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)),
            ]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(transport.TargetRefused, match="not public") as refused:
        transport.target_resolve("http://mixed.test/hook")
    assert "127.0.0.1" not in str(refused.value)


def test_public_addresses_pass():
    target = transport.target_resolve("https://93.184.216.34/hook?x=1")
    assert (target.scheme, target.port, target.path) == ("https", 443, "/hook?x=1")


def test_a_refused_target_is_an_outcome_not_an_exception():
    outcome = transport.post("http://127.0.0.1:1/hook", body=b"{}", headers={})
    assert not outcome.succeeded
    assert outcome.error.startswith("refused:")


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch, settings):
    """DNS rebinding: the name answers a reachable address when checked and another
    afterwards; the request still reaches the first, with the name as Host."""

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    real = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups.append(host)
            address = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with running_receiver() as hook:
        outcome = transport.post(f"http://rebind.test:{hook.port}/hook", body=b"{}", headers={})
        (request,) = hook.received
    assert outcome.succeeded
    assert lookups == ["rebind.test"]
    assert request.headers["Host"] == f"rebind.test:{hook.port}"


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
        "http://[2002:a9fe:a9fe::]/hook",  # 6to4 wrapping the metadata address
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 wrapping 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 wrapping the metadata address
        "http://[64:ff9b:1::a00:1]/hook",  # local-use NAT64 wrapping 10.0.0.1
        "http://[::7f00:1]/hook",  # IPv4-compatible 127.0.0.1
        "http://[::ffff:0:7f00:1]/hook",  # IPv4-translated 127.0.0.1
    ],
)
def test_ipv6_forms_that_carry_a_private_ipv4_address_are_refused(url):
    with pytest.raises(transport.TargetRefused):
        transport.target_resolve(url)


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_timeout(settings):
    """Each byte arriving inside the read timeout must not stretch one attempt past
    WEBHOOK_TIMEOUT_SECONDS in all: a slow receiver would hold a worker (or, with no
    broker, a web request) for as long as it likes."""
    import threading
    import time

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                if stop.wait(0.3):
                    return
                conn.sendall(bytes([byte]))

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        outcome = transport.post(f"http://127.0.0.1:{port}/hook", body=b"{}", headers={})
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert time.monotonic() - started < 3
    assert not outcome.succeeded
    assert "timed out" in outcome.error


@pytest.mark.parametrize("url", ["http://93.184.216.34/hook\x01", "http://93.184.216.34/a b\x7f"])
def test_control_characters_in_the_url_are_refused(url):
    with pytest.raises(transport.TargetRefused):
        transport.url_parts(url)


def test_a_url_the_http_client_rejects_is_an_outcome_not_an_exception(monkeypatch):
    """A row stored before the URL rule (or changed in the database) must not raise out
    of the attempt: with no broker that is a 500 on a request whose change is saved."""
    monkeypatch.setattr(
        transport,
        "url_parts",
        lambda url: ("http", "93.184.216.34", 80, "/hook\x01"),
    )
    outcome = transport.post("http://93.184.216.34/hook", body=b"{}", headers={})

    assert not outcome.succeeded
    assert "InvalidURL" in outcome.error


def test_an_internationalised_host_is_sent_in_its_ascii_form(monkeypatch, settings):
    """A non-ASCII name resolves, but as a Host header it made the HTTP client raise."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    real = socket.getaddrinfo
    looked_up = []

    def resolver(host, port, *args, **kwargs):
        if host.endswith(".test"):
            looked_up.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with running_receiver() as hook:
        outcome = transport.post(f"http://bücher.test:{hook.port}/hook", body=b"{}", headers={})
        (request,) = hook.received
    assert outcome.succeeded
    assert looked_up == ["xn--bcher-kva.test"]
    assert request.headers["Host"] == f"xn--bcher-kva.test:{hook.port}"


def test_proxies_named_by_the_environment_are_never_used(monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with running_receiver() as proxy, running_receiver() as hook:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        outcome = transport.post(hook.url, body=b"{}", headers={})
        assert outcome.succeeded
        assert len(hook.received) == 1
        assert proxy.received == []
