"""Python's cyclic garbage collector paused for the length of a computation.

A standard report makes hundreds of thousands of short-lived objects (pandas and scipy
internals, the result's dicts). Every few hundred allocations the collector runs, and now
and then it walks every object of the process, Django's and the worker's included: about
0.1 s of a 1 s report at 100,000 patients, to find nothing (the report's arrays are freed
by reference counting; it makes no cycles that outlive it). Paused while any computation
runs; the collector runs again, and finds any cycles made meanwhile, once the last one
ends, even when it fails.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0  # computations under way in this process (threads of one worker)
_was_enabled = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()
