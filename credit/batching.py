"""A memo for one batch of a sweep: what every firing of the batch would otherwise read again is read once per
batch (a department's head, a user's preferences: `remembered`), or for the whole batch in one query before it
starts (a case and its deadlines: `prime`, then `taken` once).

Only reads go here, never pending writes: a firing rolled back to its savepoint leaves nothing behind in the
memo that was not already in the database. Outside a batch every lookup computes afresh."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("credit_batch_memo", default=None)


@contextmanager
def batch() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, once per batch for `key`; every time outside a batch."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def prime(key: Hashable, value: Any) -> None:
    """Store what a batch read in bulk ahead of its firings, for `taken` (nothing outside a batch)."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def taken(key: Hashable, compute: Callable[[], T]) -> T:
    """What the batch primed for `key`, once: a firing may change it (a case's state, its deadlines), so a
    second look, by a later firing of the same batch, computes afresh."""
    memo = _memo.get()
    if memo is not None and key in memo:
        return memo.pop(key)  # type: ignore[no-any-return]
    return compute()
