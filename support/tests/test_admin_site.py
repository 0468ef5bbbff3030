"""The admin site as an operator meets it: what the index lists, what it leaves out,
and where "View site" goes."""

import pytest

INTERNAL_NAMES = [
    "Groups",
    "Outstanding tokens",
    "Blacklisted tokens",
    "TOTP devices",
    "Static devices",
    "Periodic tasks",
    "Crontabs",
    "Intervals",
    "Solar events",
    "Clocked",
    "Access attempts",
    "Access logs",
    "Access failures",
]


def test_index_lists_the_operator_pages(admin_client):
    index = admin_client.get("/admin/").content.decode()

    for path in (
        "/admin/accounts/user/",
        "/admin/credits/creditaccount/",
        "/admin/credits/creditledgerentry/",
        "/admin/apikeys/apikey/",
        "/admin/messagelog/messagelog/",
        "/admin/security/auditlog/",
        "/admin/tenants/tenant/",
        "/admin/axes/accessattempt/",
    ):
        assert f'href="{path}"' in index
    assert "Failed logins and lockouts" in index


def test_index_leaves_out_the_internal_records(admin_client):
    index = admin_client.get("/admin/").content.decode()

    for name in INTERNAL_NAMES:
        assert name not in index


@pytest.mark.parametrize(
    "path",
    [
        "/admin/auth/group/",
        "/admin/auth/group/add/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/token_blacklist/blacklistedtoken/",
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/axes/accesslog/",
    ],
)
def test_internal_pages_are_gone(admin_client, path):
    assert admin_client.get(path).status_code == 404


def test_header_names_the_service_and_view_site_opens_the_api_docs(admin_client):
    index = admin_client.get("/admin/").content.decode()

    assert "User management" in index
    assert 'href="/docs"' in index
    assert admin_client.get("/docs").status_code == 200
