"""Without SMTP, account emails go to a private mailbox directory, never to the log."""

import re
import stat

import pytest


@pytest.mark.live
def test_a_reset_token_is_in_the_mailbox_and_not_in_the_server_log(
    start_live_service, transactional_db, tmp_path
):
    from accounts.tests.factories import UserFactory

    user = UserFactory(email="mailbox@example.com")
    mailbox = tmp_path / "mail"
    with start_live_service({"EMAIL_FILE_PATH": str(mailbox)}) as service:
        with service.client() as client:
            answer = client.post("/api/v1/auth/reset-password", json={"email": user.email})
        log = service.log_path.read_text()

    assert answer.status_code == 202
    (message,) = mailbox.iterdir()
    text = message.read_text()
    token = re.search(r"reset-password/confirm\.\n\n(\S+)\n", text).group(1)
    assert "To: mailbox@example.com" in text
    assert token not in log and "Reset your password" not in log
    assert stat.S_IMODE(mailbox.stat().st_mode) == 0o700
