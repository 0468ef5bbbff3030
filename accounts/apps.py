from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models import CharField
        from django.db.models.functions import Lower

        # `email__lower=` / `username__lower=` lookups hit the LOWER() unique indexes.
        CharField.register_lookup(Lower)

        from accounts import signals  # noqa: F401  (events of failed logins and lockouts)
        from accounts.auth import openapi  # noqa: F401  (registers the OpenAPI scheme)
