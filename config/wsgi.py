import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from core.warmup import warm_up_and_freeze  # noqa: E402 - needs the app loaded

warm_up_and_freeze()
