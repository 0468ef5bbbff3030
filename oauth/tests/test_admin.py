"""The Django admin page of OAuth applications: listed with their tenant, audited."""

from django.test import Client

from accounts.models import User
from oauth.tests.factories import ApplicationFactory
from security.tests.helpers import audit_rows
from tenants.models import Tenant


def _staff_client() -> tuple[Client, User]:
    admin = User.objects.create_superuser(
        username="root", email="root@example.com", password="SecurePass123"
    )
    client = Client()
    client.force_login(admin)
    return client, admin


def test_the_application_pages_show_the_tenant(db):
    client, _ = _staff_client()
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    application = ApplicationFactory(tenant=tenant, name="Notebook")
    listing = client.get("/admin/oauth/application/")
    assert listing.status_code == 200 and "Notebook" in listing.content.decode()
    assert "Acme" in listing.content.decode()
    assert client.get(f"/admin/oauth/application/{application.pk}/change/").status_code == 200
    assert client.get("/admin/oauth/application/add/").status_code == 200


def test_deleting_an_application_in_the_admin_is_audited(db):
    client, admin = _staff_client()
    application = ApplicationFactory()
    answer = client.post(f"/admin/oauth/application/{application.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    [row] = audit_rows(action__endswith="application.delete")
    assert row.actor_id == admin.pk and row.target_id == str(application.pk)
