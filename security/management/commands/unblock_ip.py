from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from security.services.firewall import ip_unblock


class Command(BaseCommand):
    help = (
        "Lift the firewall's active blocks of an IP address and forget its failed "
        "attempts (audited as the system). For an administrator locked out of the admin "
        "site by their own address."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("ip", help="the blocked address, e.g. 203.0.113.7 or 2001:db8::1")

    def handle(self, *args, ip: str, **options) -> None:
        try:
            result = ip_unblock(ip=ip, actor=None)
        except ServiceError as error:
            raise CommandError(error.message) from error
        if not result.blocks_lifted:
            cleared = " (its failed-attempt count was cleared)" if result.failures_cleared else ""
            raise CommandError(f"{ip} is not blocked{cleared}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Lifted {result.blocks_lifted} block(s) of {ip}; it may log in again."
            )
        )
