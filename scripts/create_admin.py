#!/usr/bin/env python
"""Create the first (or another) platform admin: `python scripts/create_admin.py`.

Takes the options of `python manage.py create_admin` (run with `--help`); without
any, it asks for the username, email, name and password.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("create_admin", *sys.argv[1:])
    except CommandError as error:
        sys.stderr.write(f"CommandError: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
