"""The software version stored on every run: a result is reused only by the same code."""

from functools import cache
from importlib.metadata import PackageNotFoundError, version

# Bump when an analysis changes what it computes or how it lays its result out.
ANALYSIS_VERSION = "1"
_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels")


@cache
def software_version() -> str:
    parts = [f"outcomes {ANALYSIS_VERSION}"]
    for package in _PACKAGES:
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} ?")
    return "; ".join(parts)
