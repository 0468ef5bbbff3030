"""Where account emails go without SMTP: a private local mailbox, not the server log.

Account emails carry verification, reset and recovery tokens; printed by Django's
console backend they would land in the server log for anyone who reads it. Without
SMTP_HOST each email is written as its own file under EMAIL_FILE_PATH
(`var/mail/` by default, git-ignored), a directory only its owner can enter.
"""

import os

from django.core.mail.backends.filebased import EmailBackend


class LocalMailboxBackend(EmailBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        os.chmod(self.file_path, 0o700)
