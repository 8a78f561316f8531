"""plotly.js' own stylesheet, as a file, so that pages need no 'unsafe-inline' style.

plotly.js injects its base CSS rules (modebar, hover labels, notifier) into a <style>
element it creates, which a strict Content-Security-Policy (style-src 'self') blocks. It
skips that when the page already holds an element with id "plotly.js-style-global" and
class "no-inline-styles"; the dashboards put a <link> to this stylesheet there. The rules
are read out of the installed plotly.min.js (the object literal it feeds to
`addStyleRule`, with its X/Y placeholders expanded the way plotly.js expands them), so they
always match the served plotly.js version.
"""

from __future__ import annotations

import re
from functools import cache

from outcomes.staticfinders import PACKAGE_DATA, PLOTLY_JS

_START = '{"X,X div":'
_RULE = re.compile(r'"((?:[^"\\]|\\.)*)":(?:\'((?:[^\'\\]|\\.)*)\'|"((?:[^"\\]|\\.)*)")')


def _selector(key: str) -> str:
    # As plotly.js does: a leading comma kept apart, X the plot, Y the notifier.
    key = re.sub(r"^,", " ,", key)
    return key.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")


@cache
def plotly_css() -> str:
    source = (PACKAGE_DATA / PLOTLY_JS).read_text(encoding="utf-8")
    start = source.find(_START)
    if start < 0:
        return "/* plotly.js base rules not found in this plotly.js build */\n"
    end = source.find("};", start)
    rules = []
    for match in _RULE.finditer(source, start, end + 1):
        key, single, double = match.groups()
        body = single if single is not None else double
        body = re.sub(r"\\(.)", r"\1", body)  # JS string escapes
        rules.append(f"{_selector(key)}{{{body}}}")
    # plotly.js inserts each rule at index 0, so the last one written comes first.
    return "\n".join(reversed(rules)) + "\n"


_INJECTED = re.compile(r"\.textContent='((?:[^'\\]|\\.)*)',document\.head\.appendChild")


@cache
def injected_style_hashes() -> tuple[str, ...]:
    """CSP source expressions ('sha256-...') of the <style> elements plotly.js writes when
    it loads whatever the page does (the maplibre-gl stylesheet of its map traces): the one
    allowance a strict `style-src` needs for plotly.js, narrowed to exactly that text."""
    import base64
    import hashlib

    source = (PACKAGE_DATA / PLOTLY_JS).read_text(encoding="utf-8")
    hashes = []
    for match in _INJECTED.finditer(source):
        text = re.sub(r"\\(.)", r"\1", match.group(1))
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return tuple(hashes)
