"""`schemathesis` with `ast.parse` serialised across its worker threads.

CPython 3.11 keeps the AST builder's recursion counter in state shared by every
thread, so two threads parsing at once can fail with "AST constructor recursion
depth mismatch" (CPython issue 106905). Hypothesis parses source to describe the
filters schemathesis builds, and schemathesis runs its workers as threads: without
the lock a run may report that error as a finding against an operation.
"""

import ast
import sys
import threading

from schemathesis.cli import schemathesis

_parse = ast.parse
_parse_lock = threading.Lock()


def _parse_one_at_a_time(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time

if __name__ == "__main__":
    sys.exit(schemathesis())
