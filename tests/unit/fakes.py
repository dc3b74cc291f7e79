"""Fakes for fast unit tests whose point is the logic, not the I/O: an asyncpg-like
connection and pool that record what was sent and answer what a test scripts, and
a JetStream message that records how it was acknowledged."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


class FakeConnection:
    """Records every statement; `answers` maps the start of a statement to what
    fetchval/fetch/fetchrow return for it (a callable gets the arguments)."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.answers = answers or {}
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.transactions = 0

    def _answer(self, sql: str, args: tuple[Any, ...], default: Any) -> Any:
        self.sent.append((sql, args))
        for start, answer in self.answers.items():
            if sql.startswith(start):
                return answer(*args) if callable(answer) else answer
        return default

    async def execute(self, sql: str, *args: Any) -> str:
        return self._answer(sql, args, "OK")

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return self._answer(sql, args, None)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return self._answer(sql, args, None)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return self._answer(sql, args, [])

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.transactions += 1
        yield

    def statements(self, start: str) -> list[tuple[Any, ...]]:
        """The arguments of every statement sent that starts with `start`, or holds
        it as a CTE (`WITH event AS (INSERT INTO outbox ...)`)."""
        return [args for sql, args in self.sent if sql.startswith(start) or f" AS ({start}" in sql]


class FakePool(FakeConnection):
    """A pool whose every connection is itself."""

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConnection]:
        yield self


@dataclass
class FakeMsg:
    """A JetStream message: data, subject, delivery count; records its acks."""

    data: bytes
    subject: str = "stories.submitted"
    deliveries: int = 1
    acks: list[str] = field(default_factory=list)
    nak_delays: list[float] = field(default_factory=list)

    @property
    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(num_delivered=self.deliveries)

    async def ack(self) -> None:
        self.acks.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.acks.append("nak")
        self.nak_delays.append(delay or 0)

    async def in_progress(self) -> None:
        self.acks.append("in_progress")


def recorder() -> tuple[list[tuple[Any, ...]], Callable[..., Any]]:
    """(calls, an async handler that records its arguments)."""
    calls: list[tuple[Any, ...]] = []

    async def handler(*args: Any) -> None:
        calls.append(args)

    return calls, handler
