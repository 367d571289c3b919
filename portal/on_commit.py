"""Work queued for after the commit that must not fail the request that committed (reliability.md C5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction


def on_commit_robust(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """transaction.on_commit(lambda: func(*args, **kwargs), robust=True), with the arguments bound now.

    Robust: an error (the broker is down) is logged by Django and does not reach the person whose change
    committed; a sweep finds the row the call was for. Not functools.partial: Django 5.2 logs a failed robust
    callback by its __qualname__, which a partial lacks, so the AttributeError would escape after all."""

    def call() -> None:
        func(*args, **kwargs)

    call.__qualname__ = getattr(func, "__qualname__", repr(func))
    call.func, call.args, call.keywords = func, args, kwargs  # as a partial: tests find their callback
    transaction.on_commit(call, robust=True)
