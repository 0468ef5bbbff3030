"""Start-up work for a web worker, done once before it takes its first request."""

import gc

from django.urls import get_resolver


def warm_up_and_freeze() -> None:
    """Import every view now and hide the start-up objects from the cyclic GC.

    Modules, URL patterns and settings live as long as the process. Left in the
    collector's oldest generation they are rescanned on every full collection,
    which a busy worker triggers many times a second; `gc.freeze()` (what CPython
    provides for this) moves them out of its sight.
    """
    get_resolver().url_patterns  # noqa: B018 - resolving imports every view module
    gc.collect()
    gc.freeze()
