"""The cyclic garbage collector is paused while a computation runs, and only then."""

import gc
import threading

import pytest

from outcomes.analyses import STANDARD_REPORT, get_analysis
from outcomes.selectors import CohortData
from outcomes.services import runs
from outcomes.services.collection import cyclic_gc_paused
from tests.outcomes.conftest import make_case


@pytest.fixture(autouse=True)
def collector_on():
    assert gc.isenabled()
    yield
    gc.enable()


def test_a_computation_runs_with_the_collector_paused_and_turns_it_back_on(site_a, everywhere):
    make_case(site=site_a)
    seen = []
    analysis = get_analysis(STANDARD_REPORT)
    compute = analysis.compute

    def watched(*args):
        seen.append(gc.isenabled())
        return compute(*args)

    object.__setattr__(analysis, "compute", watched)  # a frozen dataclass
    try:
        data = CohortData(filters={}, rules={}, scope=everywhere())
        runs.compute(analysis, data, {})
    finally:
        object.__setattr__(analysis, "compute", compute)
    assert seen == [False]
    assert gc.isenabled()


def test_a_failing_computation_turns_the_collector_back_on():
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_the_collector_stays_paused_until_the_last_of_concurrent_computations_ends():
    inside, release = threading.Event(), threading.Event()

    def other():
        with cyclic_gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with cyclic_gc_paused():
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other computation still runs
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off():
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()
