"""The statistics layer stays pure: no Django, JSON-safe results."""

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

import outcomes.statistics as statistics
from outcomes.statistics import jsonable

PACKAGE = Path(statistics.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_the_package_imports_django():
    for path in PACKAGE.glob("*.py"):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert "django" not in roots, path.name
        assert "registry" not in roots, path.name  # selectors pass frames in, not querysets


def test_modules_stay_small():
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) < 300, path.name


def test_jsonable_removes_nan_infinity_and_numpy_types():
    payload = jsonable(
        {
            "nan": float("nan"),
            "inf": np.float64(np.inf),
            "na": pd.NA,
            "int": np.int64(3),
            "bool": np.bool_(True),
            "tuple": (np.float32(0.5), None),
            1: "key becomes text",
        }
    )
    assert payload == {
        "nan": None,
        "inf": None,
        "na": None,
        "int": 3,
        "bool": True,
        "tuple": [0.5, None],
        "1": "key becomes text",
    }
    text = json.dumps(payload, allow_nan=False)
    assert not any(math.isnan(v) for v in payload.values() if isinstance(v, float))
    assert "NaN" not in text
