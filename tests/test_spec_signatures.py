"""Estimator parameters read from source (spec check without importing scikit-learn): the same
answer as importing the class, or no answer."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlready.spec import signatures
from mlready.spec.estimators import EstimatorProblem, check_estimator, estimator_parameters
from mlready.spec.signatures import source_parameters

from .conftest import MINIMAL_SPEC


def _public_paths() -> list[str]:
    from sklearn.utils import all_estimators

    return [
        ".".join(p for p in cls.__module__.split(".") if not p.startswith("_")) + f".{name}"
        for name, cls in all_estimators()
    ]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # deprecated estimators, when imported
def test_every_sklearn_estimator_reads_as_it_imports() -> None:
    read = 0
    for path in _public_paths():
        answer = source_parameters(path)
        if answer is None:
            continue
        read += 1
        name, accepted = estimator_parameters(path)
        assert answer == (name, frozenset(accepted)), path
    # the fast path is the common path, not an exception
    assert read >= 0.8 * len(_public_paths())


@pytest.mark.parametrize(
    "path",
    [
        "sklearn.linear_model.LogisticRegression",
        "sklearn.linear_model.Ridge",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.HistGradientBoostingRegressor",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.ensemble.GradientBoostingRegressor",
        "sklearn.tree.DecisionTreeClassifier",
        "sklearn.neighbors.KNeighborsClassifier",
        "sklearn.svm.SVC",
    ],
)
def test_the_usual_estimators_are_read_from_source(path: str) -> None:
    answer = source_parameters(path)
    assert answer is not None
    assert answer[0] == path.rsplit(".", 1)[1]


@pytest.mark.parametrize(
    "path",
    [
        "sklearn.linear_model.LogisticRegresion",  # misspelt: the import's "did you mean"
        "sklearn.nomodule.Thing",
        "sklearn.base.BaseEstimator",  # no fit
        "sklearn.pipeline.Pipeline",  # its own get_params
        "sklearn.linear_model",  # a module, not a class
        "xgboost.XGBClassifier",  # outside scikit-learn
        "Thing",
    ],
)
def test_what_the_source_does_not_settle_is_imported(path: str) -> None:
    assert source_parameters(path) is None


def test_a_wrong_parameter_reads_the_same_either_way() -> None:
    messages = []
    for read_source in (True, False):
        with pytest.raises(EstimatorProblem) as problem:
            check_estimator(
                "sklearn.ensemble.RandomForestClassifier",
                {"n_estimator": 10, "max_depth": 3},
                read_source=read_source,
            )
        messages.append(str(problem.value))
    assert messages[0] == messages[1]
    assert "RandomForestClassifier takes no parameter 'n_estimator'" in messages[0]


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An importable package ``fakeml`` whose modules the source reader may read."""
    root = tmp_path / "site"
    (root / "fakeml").mkdir(parents=True)
    (root / "fakeml" / "__init__.py").write_text("")
    # a package whose source is not read: an estimator class based on it is imported
    (root / "otherml.py").write_text(
        "from sklearn.base import BaseEstimator\n\n"
        "class Estimator(BaseEstimator):\n    def fit(self, X, y):\n        return self\n"
    )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(signatures, "SOURCE_PACKAGES", frozenset({"fakeml", "sklearn"}))
    yield root / "fakeml"
    for name in [m for m in sys.modules if m.split(".")[0] in ("fakeml", "otherml")]:
        del sys.modules[name]  # the next test's fakeml is another folder


GOOD = """\
from sklearn.base import BaseEstimator, ClassifierMixin


class _Base(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        return self


class Model(_Base):
    def __init__(self, alpha=1.0, *, beta=None, **kwargs):
        self.alpha = alpha
        self.beta = beta


class Child(Model):
    pass
"""


def test_imports_bases_and_keyword_only_parameters_are_followed(fake_package: Path) -> None:
    (fake_package / "_models.py").write_text(GOOD)
    (fake_package / "api.py").write_text("from ._models import Model as Renamed, Child\n")
    assert source_parameters("fakeml.api.Renamed") == ("Model", frozenset({"alpha", "beta"}))
    assert source_parameters("fakeml.api.Child") == ("Child", frozenset({"alpha", "beta"}))
    for path in ("fakeml.api.Renamed", "fakeml.api.Child"):
        name, accepted = estimator_parameters(path)
        assert source_parameters(path) == (name, frozenset(accepted))


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (
            "conditional import",
            "try:\n    from fakeml._models import Model\nexcept ImportError:\n    Model = None\n",
        ),
        (
            "bound twice",
            "from fakeml._models import Model\nfrom fakeml._models import Child as Model\n",
        ),
        ("star import", "from fakeml._models import Model\nfrom os.path import *\n"),
        ("assigned", "from fakeml import _models\nModel = _models.Model\n"),
        (
            "decorated class",
            "import functools\nfrom fakeml._models import Model as _M\n\n"
            "@functools.total_ordering\nclass Model(_M):\n    pass\n",
        ),
        (
            "own get_params",
            "from fakeml._models import Model as _M\n\n"
            "class Model(_M):\n    def get_params(self, deep=True):\n        return {}\n",
        ),
        (
            "base outside the packages",
            "import otherml\n\nclass Model(otherml.Estimator):\n    pass\n",
        ),
        (
            "fit under a condition",
            "import os\nfrom sklearn.base import BaseEstimator\n\nclass Model(BaseEstimator):\n"
            "    if os.name == 'nt':\n        def fit(self, X, y):\n            return self\n",
        ),
        (
            "varargs",
            "from fakeml._models import _Base\n\n"
            "class Model(_Base):\n    def __init__(self, *args):\n        pass\n",
        ),
        (
            "constructor under a condition",
            "import os\nfrom fakeml._models import _Base\n\nclass Model(_Base):\n"
            "    if os.name:\n        def __init__(self, a=1):\n            self.a = a\n",
        ),
    ],
)
def test_what_the_source_cannot_settle_answers_none(
    fake_package: Path, name: str, source: str
) -> None:
    (fake_package / "_models.py").write_text(GOOD)
    (fake_package / "api.py").write_text(textwrap.dedent(source))
    assert source_parameters("fakeml.api.Model") is None, name


def test_spec_check_imports_neither_pandas_nor_sklearn_nor_gx(project: Path) -> None:
    text = MINIMAL_SPEC.replace(
        "estimator: sklearn.linear_model.LogisticRegression",
        "estimator: sklearn.ensemble.HistGradientBoostingClassifier",
    ).replace("params: {C: 1.0}", "params: {max_iter: 50, learning_rate: 0.1}")
    (project / "mlready.yaml").write_text(text)
    code = (
        "import sys\n"
        "from mlready.cli.app import main\n"
        f"try:\n    main(['--spec', {str(project)!r}, 'spec', 'check'])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "heavy = ['pandas', 'sklearn', 'great_expectations', 'scipy', 'pyarrow', 'numpy',"
        " 'jinja2', 'matplotlib', 'sqlalchemy']\n"
        "print(f'EXIT={code} LOADED=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "EXIT=0 LOADED=", out.stdout + out.stderr
