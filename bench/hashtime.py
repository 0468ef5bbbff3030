"""Time bare password checks with the service's own hasher and settings.

Called by `bench.prepare` in the benchmark's child environment, so the
hasher and its cost (PASSWORD_HASHERS, BCRYPT_ROUNDS) are exactly those the login
endpoint uses: the hasher with its cost parameters, and the seconds each
`check_password` call took.
"""

import time

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


def describe_hasher() -> str:
    """The default hasher's algorithm and the cost parameters it declares."""
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    costs = [
        f"{name}={getattr(hasher, name)}"
        for name in ("rounds", "iterations", "time_cost", "memory_cost", "parallelism")
        if isinstance(getattr(hasher, name, None), int)
    ]
    return f"{hasher.algorithm} ({', '.join(costs)})" if costs else hasher.algorithm
