"""Time bare password checks with the service's own hasher and settings.

Run as `python -m bench.hashtime` in the benchmark's child environment, so the
cost (BCRYPT_ROUNDS) and the hasher are exactly those the login endpoint uses.
Prints one JSON object: the seconds each `check_password` call took.
"""

import argparse
import json
import os
import time

import django

from bench import PASSWORD


def time_checks(samples: int) -> list[float]:
    """Seconds per `check_password` of a correct password, one value per call."""
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    check_password(PASSWORD, encoded)  # warm-up: imports and the first-call costs
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        ok = check_password(PASSWORD, encoded)
        durations.append(time.perf_counter() - started)
        if not ok:
            raise SystemExit("check_password refused the password it just hashed")
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    print(json.dumps({"rounds": settings.BCRYPT_ROUNDS, "seconds": time_checks(args.samples)}))


if __name__ == "__main__":
    main()
