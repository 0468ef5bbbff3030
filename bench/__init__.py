"""Throughput benchmarks of the service on PostgreSQL + Redis (`make bench`).

`run.py` drives everything; `wsgi.py` and `urls.py` are what gunicorn serves, so
that a bare DRF view can sit beside the real routes without entering production.
"""

# The bare view's path: served by bench.urls, requested by bench.run.
BARE_PATH = "/bench/bare"
