import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create a demo super admin when no superuser exists yet and print how to log in. "
        "Used by `make run`; never run it against a production database."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, username: str, email: str, base_url: str, **options) -> None:
        existing = User.objects.filter(is_superuser=True).order_by("pk").first()
        login_name, login_password = username, "<password>"
        if existing is not None:
            login_name = existing.username
            self.stdout.write(
                f"Admin account: {existing.username} (password chosen at first run; "
                f"reset it with `python manage.py changepassword {existing.username}`)."
            )
        else:
            # Meets the default policy: upper, lower and digit are always present.
            password = f"Demo-{secrets.token_urlsafe(12)}-Aa1"
            User.objects.create_superuser(username=username, email=email, password=password)
            self.stdout.write(self.style.SUCCESS("Created the demo admin account."))
            self.stdout.write(f"  username: {username}\n  password: {password}")
            login_password = password
        credentials = json.dumps({"username": login_name, "password": login_password})
        self.stdout.write(
            f"Log in at {base_url}/admin/ , or get tokens with:\n"
            f"  curl -X POST {base_url}/api/v1/auth/login -H 'Content-Type: application/json' "
            f"-d '{credentials}'\n"
            "or open an admin-panel session for /v1/admin-panel/ and /v1/support/create with:\n"
            f"  curl -X POST {base_url}/v1/admin-panel/login -H 'Content-Type: application/json' "
            f"-d '{credentials}'\n"
            f"API docs: {base_url}/docs"
        )
        if not settings.SMTP_HOST:
            self.stdout.write(
                "Account emails (verification, password reset, recovery) are not sent "
                f"without SMTP_HOST: each is a file in {settings.EMAIL_FILE_PATH}/"
            )
