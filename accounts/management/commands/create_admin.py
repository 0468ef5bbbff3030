import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from accounts.models import User
from accounts.services.users import platform_admin_create, platform_admin_update
from core.errors import Conflict, ServiceError


def _problem(error: ServiceError) -> CommandError:
    details = [item for item in error.errors if item != error.message]
    return CommandError(" ".join([error.message, *details]))


class Command(BaseCommand):
    help = (
        "Create a platform admin (active, verified, staff, the platform-wide admin role). "
        "Without arguments it asks for the username, email, name and password; scripts "
        "pass --username, --email, --name and --password-stdin (the password on the first "
        "line of standard input). --super-admin makes a super admin. A taken username or "
        "email fails unless --update, which gives the account holding both the password "
        "and flags."
    )
    # call_command(..., stdin=stream) feeds --password-stdin (as createsuperuser does).
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )
        parser.add_argument("--super-admin", action="store_true")
        parser.add_argument(
            "--update",
            action="store_true",
            help="If the username or email exists, set that account's password and flags.",
        )

    def handle(self, *args, **options) -> None:
        stdin = options.get("stdin") or sys.stdin
        if options["password_stdin"]:
            if not (options["username"] and options["email"]):
                raise CommandError("--password-stdin needs --username and --email.")
            password = stdin.readline().rstrip("\r\n")
            username, email, name = options["username"], options["email"], options["name"]
        else:
            username, email, name, password = self._ask(options)
        if not password:
            raise CommandError("The password is empty.")
        self._save(
            username=username.strip(),
            email=email.strip(),
            name=name.strip(),
            password=password,
            super_admin=options["super_admin"],
            update=options["update"],
        )

    def _ask(self, options) -> tuple[str, str, str, str]:
        username = options["username"] or input("Username: ")
        email = options["email"] or input("Email: ")
        name = options["name"] or input("Name: ")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The passwords do not match.")
        return username, email, name, password

    def _save(
        self,
        *,
        username: str,
        email: str,
        name: str,
        password: str,
        super_admin: bool,
        update: bool,
    ) -> None:
        kind = "super admin" if super_admin else "admin"
        try:
            user = platform_admin_create(
                actor=None,
                username=username,
                email=email,
                name=name,
                password=password,
                super_admin=super_admin,
            )
        except Conflict as error:
            if not update:
                raise CommandError(
                    f"{error.message} With --update, that account gets this password "
                    "and these flags instead."
                ) from error
            user = self._update(
                username=username,
                email=email,
                name=name,
                password=password,
                super_admin=super_admin,
            )
            self.stdout.write(self.style.SUCCESS(f"Updated {kind} {user.username}."))
            return
        except ServiceError as error:
            raise _problem(error) from error
        self.stdout.write(self.style.SUCCESS(f"Created {kind} {user.username} ({user.email})."))

    def _update(self, *, username, email, name, password, super_admin) -> User:
        matches = list(
            User.objects.filter(Q(username__iexact=username) | Q(email__iexact=email.lower()))
        )
        if len(matches) != 1:
            raise CommandError("The username and the email belong to two different accounts.")
        # Only an account holding both is the admin's: one that took only the username
        # (or only the address) belongs to someone else, who would keep its email (or
        # its username) and so a way back in, by a password reset, to an admin account.
        account = matches[0]
        if account.username.lower() != username.lower() or account.email != email.strip().lower():
            raise CommandError(
                f"Account {account.username!r} ({account.email}) has only one of the username "
                "and the email given: --update changes only an account that has both."
            )
        try:
            return platform_admin_update(
                actor=None, user=matches[0], password=password, super_admin=super_admin, name=name
            )
        except ServiceError as error:
            raise _problem(error) from error
