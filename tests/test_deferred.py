"""mlready.deferred: lazy modules run on first use (once, whatever the threads), absent ones fail
to import only inside the block, and Great Expectations imported this way validates as before."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from mlready.deferred import deferred_imports, is_deferred
from tests.conftest import python_code


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A package ``lazypkg`` whose modules count how often their code runs."""
    root = tmp_path / "lazypkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "slow.py").write_text(
        "import sys, time\n"
        "sys.lazypkg_runs = getattr(sys, 'lazypkg_runs', 0) + 1\n"
        "time.sleep(0.2)  # long enough for threads to pile up on the first use\n"
        "from . import helper\n"  # the module's own imports while it runs
        "VALUE = helper.BASE + 1\n"
        "def twice(x):\n    return 2 * x\n"
    )
    (root / "helper.py").write_text("BASE = 41\n")
    (root / "sub" / "__init__.py").write_text("NAME = 'sub'\n")
    (root / "sub" / "deep.py").write_text("DEEP = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [m for m in sys.modules if m == "lazypkg" or m.startswith("lazypkg.")]:
        del sys.modules[name]
    if hasattr(sys, "lazypkg_runs"):
        del sys.lazypkg_runs


def test_a_lazy_module_runs_on_first_use_only(package: Path) -> None:
    with deferred_imports(lazy=["lazypkg.slow"]):
        import lazypkg.slow as slow
    assert is_deferred("lazypkg.slow")
    assert getattr(sys, "lazypkg_runs", 0) == 0
    assert slow.VALUE == 42  # first use runs it
    assert sys.lazypkg_runs == 1
    assert not is_deferred("lazypkg.slow")
    assert slow.twice(3) == 6
    import lazypkg.slow as again

    assert again is slow
    assert sys.lazypkg_runs == 1


def test_threads_that_touch_a_lazy_module_at_once_all_see_it_loaded(package: Path) -> None:
    # Python 3.11's own LazyLoader let a second thread see the half-loaded module (gh-114763)
    with deferred_imports(lazy=["lazypkg.slow"]):
        import lazypkg.slow as slow
    seen: list[object] = []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        try:
            seen.append(slow.twice(slow.VALUE))
        except Exception as exc:  # recorded, so the assertion shows it
            seen.append(exc)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [84] * 8
    assert sys.lazypkg_runs == 1


def test_absent_modules_fail_inside_the_block_only(package: Path) -> None:
    with deferred_imports(absent=["lazypkg.sub"]):
        with pytest.raises(ModuleNotFoundError):
            import lazypkg.sub
        with pytest.raises(ModuleNotFoundError):
            import lazypkg.sub.deep
        import lazypkg.helper  # others import as usual

        assert lazypkg.helper.BASE == 41
    import lazypkg.sub.deep

    assert lazypkg.sub.deep.DEEP
    assert lazypkg.sub.NAME == "sub"


def test_modules_already_loaded_are_untouched(package: Path) -> None:
    import lazypkg.helper

    with deferred_imports(lazy=["lazypkg.helper"], absent=["lazypkg.helper"]):
        import lazypkg.helper as same
    assert same is lazypkg.helper
    assert not is_deferred("lazypkg.helper")


def test_gx_imported_without_what_mlready_never_uses_validates_the_same() -> None:
    # in a fresh process: validation leaves altair and scipy.stats unrun and SQLAlchemy unloaded,
    # and scipy.stats still works when something uses it afterwards
    code = """
import json, sys
import pandas as pd
from mlready.deferred import is_deferred
from mlready.validation.checks import Check
from mlready.validation.engine import run_checks
frame = pd.DataFrame({"a": [1, 2, None, 4], "b": ["x", "y", "y", "z"]})
checks = [
    Check("a-null", "not_null", "a", "error", "never missing", {"max_null_fraction": 0}),
    Check("b-set", "allowed_values", "b", "error", "b is x or y", {"values": ["x", "y"]}),
]
results = run_checks(checks, frame)
state = {m: is_deferred(m) for m in ("altair", "scipy.stats")}
state["sqlalchemy"] = "sqlalchemy" in sys.modules
import scipy.stats
state["entropy"] = round(float(scipy.stats.entropy([0.5, 0.5])), 6)
state["results"] = [(r.check.id, r.passed, r.unexpected_count) for r in results]
print(json.dumps(state))
"""
    state = json.loads(python_code(code))
    assert state["altair"]
    assert state["scipy.stats"]
    assert not state["sqlalchemy"]
    assert state["entropy"] == 0.693147
    assert state["results"] == [["a-null", False, 1], ["b-set", False, 1]]
