"""Rotate the RS256 key that signs ID tokens."""

import os
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from core import signing_keys


class Command(BaseCommand):
    help = (
        "Make a new OpenID Connect signing key. The old one stays in the JWKS until the "
        "ID tokens it signed have expired (OAUTH_ID_TOKEN_EXPIRE_SECONDS); restart the "
        "web processes to sign with the new key. With OIDC_RSA_PRIVATE_KEY in the "
        "environment, prints the new key and the values to set instead."
    )

    def handle(self, *args, **options):
        if os.environ.get(signing_keys.OIDC_ACTIVE):
            new_key = signing_keys.new_rsa_private_key()
            self.stdout.write(
                "OIDC_RSA_PRIVATE_KEY is set in the environment, so this install's keys are "
                "yours to change. Set:\n"
                f"  OIDC_RSA_PRIVATE_KEY={new_key.strip().replace(chr(10), chr(92) + 'n')}\n"
                "  OIDC_RSA_PRIVATE_KEYS_INACTIVE=<the current OIDC_RSA_PRIVATE_KEY>\n"
                "and remove the old key from OIDC_RSA_PRIVATE_KEYS_INACTIVE after "
                f"{settings.OAUTH_ID_TOKEN_EXPIRE_SECONDS} seconds."
            )
            return
        now = timezone.now()
        keys = signing_keys.rotate_oidc_keys(
            settings.OIDC_KEYS_FILE,
            keep_after=now - timedelta(seconds=settings.OAUTH_ID_TOKEN_EXPIRE_SECONDS),
            now=now,
        )
        self.stdout.write(
            f"A new signing key is active in {settings.OIDC_KEYS_FILE}; "
            f"{len(keys.retired)} retired key(s) are still published. "
            "Restart the web processes to use it."
        )
