"""One way to retry: an operation that fails while a dependency starts or comes
back (NATS, JetStream, PostgreSQL) is tried again after a pause, with a warning
each time, until it works or the attempts run out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, stop_never, wait_fixed

log = logging.getLogger("braided.retry")

T = TypeVar("T")


async def retrying(operation: Callable[[], Awaitable[T]], *, errors: tuple[type[BaseException], ...],
                   what: str | None, attempts: int | None = None, wait: float = 0.5) -> T:
    """`await operation()`, again every `wait` seconds while it raises one of
    `errors`; after `attempts` tries (None: forever) the last error is raised.
    Each retry is logged as a warning naming `what` (None: not logged)."""

    def warn(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if what is not None:
            log.warning("%s: not yet (%s); retrying", what, type(error).__name__)

    async for attempt in AsyncRetrying(stop=stop_after_attempt(attempts) if attempts else stop_never,
                                       wait=wait_fixed(wait), retry=retry_if_exception_type(errors),
                                       before_sleep=warn, reraise=True):
        with attempt:
            return await operation()
    raise AssertionError("unreachable")  # AsyncRetrying either returns or raises
