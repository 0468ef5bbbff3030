"""Everything measured in one process before the server starts, printed as one JSON object.

Run as `python -m bench.prepare` in the benchmark's child environment, after
`manage.py seed_demo` (one process: Django starts once). It times bare password
checks (`bench.hashtime`) and the set-based jobs against bare SQL (`bench.batch`),
and says who the measured requests act as. The demo data has a platform admin
(`demo-admin`, staff) and thousands of accounts, all with the demo password, but no
support staff: this adds one (`bench-support`, advanced level, every tenant) if
missing. It also picks the account with the most conversations (the newest page of
whose log is measured) and a surname the admin search finds.
"""

import argparse
import json
import os
from collections import Counter

import django

SUPPORT_USERNAME = "bench-support"
SUPPORT_EMAIL = "bench-support@example.com"


def support_staff(password: str) -> str:
    """The e-mail of a support staff member who may read conversations."""
    from accounts.models import Role, User

    staff = User.objects.filter(username=SUPPORT_USERNAME).first()
    if staff is None:
        staff = User(
            username=SUPPORT_USERNAME,
            email=SUPPORT_EMAIL,
            name="Bench Support",
            support_level=User.SupportLevel.ADVANCED,
            role=Role.objects.filter(name="guest", tenant__isnull=True).first(),
            is_verified=True,
        )
        staff.set_password(password)
        staff.save()
    return staff.email


def busiest_account() -> dict:
    """The active demo account with the most logged conversations."""
    from django.db.models import Count, Q

    from accounts.models import User
    from messagelog.models import MessageLog

    active = (
        User.objects.filter(status=User.Status.ACTIVE, support_level="")
        .exclude(username__startswith="bench")  # the harness's own accounts
        .filter(Q(tenant__isnull=True) | Q(tenant__is_active=True))
        .values("pk")
    )
    top = (
        MessageLog.objects.filter(user_id__in=active)
        .values("user_id")
        .annotate(count=Count("id"))
        .order_by("-count")
        .first()
    )
    user = User.objects.get(pk=top["user_id"])
    return {"id": user.pk, "email": user.email, "messages": top["count"]}


def common_surname() -> str:
    """The surname most accounts share (a search term that finds many rows)."""
    from accounts.models import User

    names = User.objects.exclude(name="").values_list("name", flat=True)[:2000]
    counts = Counter(name.split()[-1] for name in names)
    return counts.most_common(1)[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hash-samples", type=int, default=10)
    parser.add_argument("--flush-rows", type=int, default=1000)
    parser.add_argument("--batch-repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.batch import flush_figures, reset_figures
    from bench.hashtime import describe_hasher, time_checks
    from support.demo_data.loader import DEMO_PASSWORD
    from support.demo_data.rows import DEMO_ADMIN_EMAIL, DEMO_EMAIL

    print(
        json.dumps(
            {
                "password": DEMO_PASSWORD,
                "admin_email": DEMO_ADMIN_EMAIL,
                "demo_email": DEMO_EMAIL,
                "support_email": support_staff(DEMO_PASSWORD),
                "busiest": busiest_account(),
                "surname": common_surname(),
                "hashing": {"hasher": describe_hasher(), "seconds": time_checks(args.hash_samples)},
                "reset": reset_figures(args.batch_repeats),
                "flush": flush_figures(args.flush_rows, args.batch_repeats),
            }
        )
    )


if __name__ == "__main__":
    main()
