"""WSGI app for the benchmark: the real settings, with `bench.urls` as the URLconf.

Swapping the URLconf here, not in settings, keeps the bare view out of every
production process while the middleware stack stays exactly the service's.
"""

import os

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
settings.ROOT_URLCONF = "bench.urls"

application = get_wsgi_application()

from core.warmup import warm_up_and_freeze  # noqa: E402 - needs the app loaded

warm_up_and_freeze()
