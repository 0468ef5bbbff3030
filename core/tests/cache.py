from django.core.cache import cache


def clear_cache() -> None:
    """Empty this run's cache: only keys under its prefix on Redis, the table otherwise."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
