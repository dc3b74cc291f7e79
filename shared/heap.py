"""The start-up heap, set aside from the garbage collector once a service is ready.

CPython's oldest-generation collection walks every container object the process
holds: modules, compiled templates, message catalogs, settings, pools. In a started
service that is hundreds of thousands of objects that live as long as the process,
and walking them stopped the event loop for 30-50 ms at a time (measured with
gc.callbacks in `braided serve submission` under `make bench-http`'s POST load): every
request in flight then waited, which made the slowest hundredth of submissions.

`gc.freeze()` moves everything alive now into a permanent generation the collector no
longer walks, so a full collection costs only what the process made since; objects
made per request are still collected as before.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_heap() -> None:
    """Call once start-up is done (pool, NATS, consumers, imports): collect what
    start-up left behind, then freeze the rest. Only the first call freezes: a process
    that starts apps again and again (tests) would otherwise pin each one's garbage."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()
