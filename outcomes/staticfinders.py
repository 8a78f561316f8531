"""plotly.js from the installed `plotly` package, as the static file `plotly.min.js`.

The Python package ships the exact plotly.js its figure JSON is written for
(`plotly/package_data/plotly.min.js`). This finder exposes that one file, and nothing else
of the package, to `findstatic`, `collectstatic` and whitenoise: no CDN, no copy in git.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "plotly.min.js"
PACKAGE_DATA = Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PACKAGE_DATA))

    def check(self, **kwargs):
        from django.core.checks import Error

        if not (PACKAGE_DATA / PLOTLY_JS).is_file():
            return [Error(f"{PACKAGE_DATA / PLOTLY_JS} is missing", id="outcomes.E001")]
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != PLOTLY_JS:
            return []  # as Django's own finders: an empty list for "not here"
        found = str(PACKAGE_DATA / PLOTLY_JS)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        yield PLOTLY_JS, self.storage
