"""`manage.py flush_message_log`."""

from io import StringIO

from django.core.management import call_command

from messagelog import services
from messagelog.models import MessageLog
from messagelog.tests.helpers import conversation


def test_command_flushes_and_reports_what_is_left(queue):
    services.enqueue(conversation())
    out = StringIO()

    call_command("flush_message_log", stdout=out)

    assert "Flushed 1 conversation(s)" in out.getvalue()
    assert "Still queued: 0" in out.getvalue()
    assert MessageLog.objects.count() == 1
