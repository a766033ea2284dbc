"""The notebook run-time table that the nbval run prints (the root conftest.py)."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


def _load_root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_durations_are_summed_per_notebook_and_tests_are_ignored():
    times = _load_root_conftest()
    for nodeid, duration, failed in [
        ("lectures/02_b.ipynb::Cell 0", 1.5, False),
        ("lectures/02_b.ipynb::Cell 1", 2.0, True),
        ("lectures/01_a.ipynb::Cell 0", 3.25, False),
        ("tests/test_x.py::test_y", 100.0, False),
    ]:
        times.pytest_runtest_logreport(
            SimpleNamespace(nodeid=nodeid, duration=duration, failed=failed)
        )
    assert dict(times._seconds) == {"lectures/02_b.ipynb": 3.5, "lectures/01_a.ipynb": 3.25}
    table = times.notebook_table(times._seconds, times._failed).splitlines()
    assert table[2] == "| `lectures/01_a.ipynb` | 3 | passed |"
    assert table[3] == "| `lectures/02_b.ipynb` | 4 | failed |"
    assert table[4] == "| all 2 notebooks | 7 | |"
