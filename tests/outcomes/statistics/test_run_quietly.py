"""A statistic's note holds the warnings of its own call, not those of a reader thread
that happened to warn at the same moment (the warnings machinery is process-wide)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
from scipy import stats

from outcomes.statistics._results import run_quietly


def test_the_calls_own_warning_becomes_the_note():
    # Nearly identical values: scipy warns about a catastrophic loss of precision.
    _, note = run_quietly(stats.ttest_1samp, np.array([1.0, 1.0 + 1e-15, 1.0]), 0.0)
    assert note and "Precision loss" in note


def test_a_warning_of_another_thread_is_not_the_notes_and_is_not_lost():
    reader_warned, statistic_done = threading.Event(), threading.Event()
    shown: list[str] = []

    def reader():
        warnings.warn("a reader's warning", UserWarning, stacklevel=1)
        reader_warned.set()

    def statistic():
        thread = threading.Thread(target=reader)
        thread.start()
        thread.join()
        assert reader_warned.is_set()
        statistic_done.set()
        return 42

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *args, **kwargs: shown.append(str(message))
        result, note = run_quietly(statistic)
        warnings.warn("after", UserWarning, stacklevel=1)
    assert (result, note) == (42, None) and statistic_done.is_set()
    # The reader's warning went where it would have gone without run_quietly, and
    # run_quietly put the showwarning it found back.
    assert shown == ["a reader's warning", "after"]
