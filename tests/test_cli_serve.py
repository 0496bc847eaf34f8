"""`chatcoach serve --workers N` divides the cores among the workers' torch threads."""

from __future__ import annotations

import os

from chatcoach.cli import share_cores


def test_workers_share_the_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert share_cores(2) == 2 and os.environ["OMP_NUM_THREADS"] == "2"  # the worker processes inherit it
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert share_cores(1) == 4
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert share_cores(8) == 1  # never zero threads


def test_an_explicit_thread_count_wins(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert share_cores(2) == 3 and os.environ["OMP_NUM_THREADS"] == "3"
