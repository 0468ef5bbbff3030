"""The admin page of the message log: read-only, never counts the whole table, and
opening a conversation is audited."""

import html
import re

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from messagelog.models import MessageLog
from messagelog.tests.factories import MessageLogFactory
from security.models import AuditAction, AuditLog
from security.tests.helpers import audit_row

LOG = "/admin/messagelog/messagelog/"


def _counts_of_the_log(queries) -> list[str]:
    table = MessageLog._meta.db_table
    return [
        query["sql"]
        for query in queries
        if "COUNT(" in query["sql"].upper() and table in query["sql"]
    ]


def test_list_never_counts_the_whole_table(admin_client):
    MessageLogFactory.create_batch(3)

    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(LOG)

    assert page.status_code == 200
    counts = _counts_of_the_log(captured.captured_queries)
    # One count, of a LIMIT subquery: never the whole table.
    [count] = counts
    assert re.search(r"\bLIMIT 10001\b", count, re.IGNORECASE), count


def test_list_pages_up_to_the_count_cap(admin_client, monkeypatch):
    from core import admin_paging
    from messagelog.admin import MessageLogAdmin

    # Past the cap an unfiltered list shows the planner's estimate; without one, the cap.
    monkeypatch.setattr(admin_paging.LargeTablePaginator, "COUNT_CAP", 3)
    monkeypatch.setattr(admin_paging, "table_row_estimate", lambda queryset: None)
    monkeypatch.setattr(MessageLogAdmin, "list_per_page", 2)
    MessageLogFactory.create_batch(5)

    first = admin_client.get(LOG).content.decode()
    second = admin_client.get(LOG, {"p": "2"}).content.decode()

    assert first.count('class="field-model"') == 2
    assert second.count('class="field-model"') == 1


def test_list_shows_user_model_and_tokens_and_searches_by_user(admin_client):
    ada = UserFactory(username="ada", email="ada@example.com")
    MessageLogFactory(user_id=ada.pk, username="ada", email="ada@example.com", model="m-ada")
    MessageLogFactory(model="m-other", tokens_used=42)

    everything = admin_client.get(LOG).content.decode()
    by_email = admin_client.get(LOG, {"q": "ADA@example.com"}).content.decode()
    by_name = admin_client.get(LOG, {"q": "ada"}).content.decode()
    by_unknown = admin_client.get(LOG, {"q": "nobody"}).content.decode()

    assert "m-ada" in everything and "m-other" in everything and "42" in everything
    assert "m-ada" in by_email and "m-other" not in by_email
    assert "m-ada" in by_name and "m-other" not in by_name
    assert "m-ada" not in by_unknown and "m-other" not in by_unknown


def test_date_filter(admin_client):
    from datetime import timedelta

    from django.utils import timezone

    MessageLogFactory(model="m-today")
    MessageLogFactory(model="m-old", timestamp=timezone.now() - timedelta(days=40))
    listing = admin_client.get(LOG).content.decode()
    [today_link] = re.findall(r'href="(\?timestamp__gte=[^"]+)"[^>]*>Today<', listing)

    today = admin_client.get(LOG + html.unescape(today_link)).content.decode()

    assert "m-today" in today and "m-old" not in today


def test_detail_pretty_prints_the_messages_and_is_audited(admin_client):
    ada = UserFactory(username="ada")
    entry = MessageLogFactory(
        user_id=ada.pk,
        messages={"request": [{"role": "user", "content": "<b>hi</b>"}], "response": {}},
    )

    page = admin_client.get(f"{LOG}{entry.pk}/change/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "<pre" in body and "&quot;role&quot;: &quot;user&quot;" in body
    assert "&lt;b&gt;hi&lt;/b&gt;" in body and "<b>hi</b>" not in body
    row = audit_row(action=AuditAction.MESSAGE_LOG_READ, actor_label="admin")
    assert (row.target_type, row.target_id) == ("accounts.user", str(ada.pk))
    assert row.changes == {"conversation": str(entry.pk)}


def test_list_alone_is_not_audited_nor_an_unknown_conversation(admin_client):
    MessageLogFactory()

    admin_client.get(LOG)
    missing = admin_client.get(f"{LOG}00000000-0000-0000-0000-000000000000/change/")

    assert missing.status_code == 302
    assert not AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_READ).exists()


def test_staff_without_the_view_permission_read_nothing(client, db):
    staffer = UserFactory(username="clerk", is_staff=True)
    staffer.user_permissions.set(Permission.objects.filter(codename="view_apikey"))
    client.force_login(staffer)
    entry = MessageLogFactory()

    assert client.get(LOG).status_code == 403
    assert client.get(f"{LOG}{entry.pk}/change/").status_code == 403
    assert not AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_READ).exists()


def test_log_is_read_only(admin_client):
    entry = MessageLogFactory(model="kept")

    listing = admin_client.get(LOG).content.decode()
    admin_client.post(f"{LOG}{entry.pk}/change/", {"model": "rewritten"})

    assert admin_client.get(f"{LOG}add/").status_code == 403
    assert admin_client.post(f"{LOG}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in listing
    entry.refresh_from_db()
    assert entry.model == "kept"


def test_the_list_cannot_be_filtered_by_what_was_said(admin_client):
    # The list shows no conversation and reads none into the audit trail: a filter on
    # the messages in the address would search every user's conversations unaudited.
    MessageLogFactory(
        username="ada", messages={"request": [{"role": "user", "content": "my secret plan"}]}
    )

    for lookup in ("messages__icontains", "messages__contains", "messages__request__0__content"):
        page = admin_client.get(LOG, {lookup: "secret"})

        assert page.status_code == 400, lookup
        assert "ada" not in page.content.decode()
    assert not AuditLog.objects.filter(action=AuditAction.MESSAGE_LOG_READ).exists()


def test_a_search_for_an_id_no_key_could_hold_finds_nothing(admin_client):
    MessageLogFactory(model="m-kept")

    answers = [admin_client.get(LOG, {"q": term}) for term in ("²", "99999999999999999999999")]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert all("m-kept" not in answer.content.decode() for answer in answers)
