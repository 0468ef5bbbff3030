"""Throughput benchmarks of the service on PostgreSQL + Redis (`make bench`).

`run.py` drives everything (load from wrk with `wrk.lua`, via `wrk.py`), `report.py`
writes the report; `wsgi.py` and `urls.py` are what gunicorn serves, so that a bare
DRF view can sit beside the real routes without entering production. `prepare.py`,
`batch.py` and `hashtime.py` run as child processes with the service's settings.
"""

# The bare view's path: served by bench.urls, requested by bench.run.
BARE_PATH = "/bench/bare"
# The product API's registration: the only answer that shows a user's API key.
REGISTER_PATH = "/v1/users/register"
COMPLETIONS_PATH = "/v1/prompt/completions"
COMPLETION_BODY = {
    "level": "medium",
    "messages": [{"role": "user", "content": "Hello"}],
    "r_type": "bpe",
}
PASSWORD = "BenchPass123"
