"""Detailed health and metrics: monitoring addresses and platform admins only."""

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import assert_envelope, bearer, login
from security.tests.helpers import platform_admin_auth

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}
GUARDED = ["/api/v1/health/detailed", "/metrics"]


@pytest.mark.parametrize("url", GUARDED)
def test_an_outside_address_is_refused_403(api_client, db, url):
    assert_envelope(api_client.get(url, **OUTSIDE), 403, "MONITORING_NOT_ALLOWED")


@pytest.mark.parametrize("url", GUARDED)
def test_an_ordinary_user_token_does_not_open_them(api_client, db, url):
    user = UserFactory()
    auth = bearer(login(api_client, user.email, **OUTSIDE)["access_token"])

    assert_envelope(api_client.get(url, **auth, **OUTSIDE), 403, "MONITORING_NOT_ALLOWED")


@pytest.mark.parametrize("url", GUARDED)
def test_a_platform_admin_reads_them_from_anywhere(api_client, db, url):
    auth = platform_admin_auth(api_client)

    assert api_client.get(url, **auth).status_code == 200


@pytest.mark.parametrize("url", GUARDED)
def test_a_listed_network_reads_them_without_a_token(api_client, db, settings, url):
    settings.MONITORING_ALLOWED_IPS = ["10.20.0.0/16"]

    allowed = api_client.get(url, REMOTE_ADDR="10.20.3.4")
    loopback = api_client.get(url, REMOTE_ADDR="127.0.0.1")

    assert allowed.status_code == 200
    assert_envelope(loopback, 403, "MONITORING_NOT_ALLOWED")


def test_loopback_may_scrape_by_default(api_client, db):
    metrics = api_client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_ACCEPT="text/plain")

    assert metrics.status_code == 200
    assert "django_http_requests_total_by_method_total" in metrics.content.decode()


def test_a_forwarded_outside_client_is_refused_behind_a_trusted_proxy(api_client, db, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    response = api_client.get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert_envelope(response, 403, "MONITORING_NOT_ALLOWED")


@pytest.mark.parametrize(
    "url", ["/health", "/api/v1/health", "/api/v1/health/ready", "/api/v1/health/live"]
)
def test_the_plain_probes_stay_open(api_client, db, url):
    assert api_client.get(url, **OUTSIDE).status_code == 200


def test_a_bad_network_in_the_setting_stops_the_start():
    from config.tests.settings_probe import run_django

    result = run_django("", {"MONITORING_ALLOWED_IPS": "10.0.0.0/8,not-a-network"}, check=False)

    assert result.returncode != 0
    assert "MONITORING_ALLOWED_IPS" in result.stderr


@pytest.mark.parametrize("url", GUARDED)
@pytest.mark.parametrize("forwarded", ["203.0.113.9:4711", "198.51.100.1, unknown"])
def test_a_client_the_trusted_proxy_names_unreadably_is_not_the_proxy(
    api_client, db, settings, url, forwarded
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    response = api_client.get(url, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert_envelope(response, 403, "MONITORING_NOT_ALLOWED")
