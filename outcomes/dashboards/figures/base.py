"""What every figure builder returns, and the layout they share.

A builder is a pure function of records from `outcomes.dashboards.results`: it returns a
`Chart` holding the plotly.js figure as a plain dict (data, layout, config: what
`Plotly.newPlot` takes, and what a test can validate with `plotly.graph_objects.Figure`)
and the chart's data as rows for its CSV download.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from outcomes.statistics import format_p

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass
class Chart:
    key: str  # unique on its page: the element id, the PNG and CSV file names
    title: str
    figure: dict[str, Any] | None  # None: nothing to draw (see `empty`)
    csv_headers: list[str] = field(default_factory=list)
    csv_rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # tests in words, withheld cells
    empty: str = ""  # the friendly message shown instead of an empty axis
    source: Any = None  # the run it was drawn from (set by the page)
    reference_source: Any = None  # the registry-wide run of its reference lines, if any

    @property
    def figure_id(self) -> str:
        """The id of the page's <script type="application/json"> holding the figure."""
        return f"figure-{self.key}"

    @property
    def drawable(self) -> bool:
        return self.figure is not None

    @property
    def figure_script(self) -> SafeString:
        """What `json_script` makes of the figure, with the same escapes (<, >, & as
        JSON unicode escapes) done by `str.replace`: `str.translate` over a page's 100 KB
        of figure JSON cost a tenth of the page's server time."""
        text = json.dumps(self.figure, separators=(",", ":"))
        for char, escape in _SCRIPT_ESCAPES:
            text = text.replace(char, escape)
        return format_html(
            '<script id="{}" type="application/json">{}</script>', self.figure_id, mark_safe(text)
        )


_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003C"), (">", "\\u003E"))


def empty_chart(key: str, title: str, message: str) -> Chart:
    return Chart(key, title, None, empty=message)


def layout(title: str, *, x: str, y: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "font": {"family": FONT, "size": 12},
        "xaxis": {"title": {"text": x}, "automargin": True},
        "yaxis": {"title": {"text": y}, "automargin": True, "zeroline": False},
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "hovermode": "closest",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "height": 380,
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def config(key: str) -> dict[str, Any]:
    """The modebar keeps its PNG download (named after the chart), no plotly logo."""
    return {
        "displaylogo": False,
        "responsive": True,
        "toImageButtonOptions": {"format": "png", "filename": key, "scale": 2},
        "modeBarButtonsToRemove": ["select2d", "lasso2d"],
    }


def figure(key: str, data: list[dict[str, Any]], layout_: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "layout": layout_, "config": config(key)}


def error_bars(values, lows, highs) -> dict[str, Any]:
    """Asymmetric error bars from CI bounds (0 where a bound is unknown)."""
    plus = [
        (h - v) if v is not None and h is not None else 0
        for v, h in zip(values, highs, strict=True)
    ]
    minus = [
        (v - lo) if v is not None and lo is not None else 0
        for v, lo in zip(values, lows, strict=True)
    ]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "width": 4}


def p_in_words(test: str, p: float | None) -> str:
    if p is None:
        return "no test could be run"
    text = format_p(p)
    relation = f"{text[0]} {text[1:]}" if text.startswith(("<", ">")) else f"= {text}"
    return f"{test}, p {relation}"


def scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def count_text(value: int | None, mask: str) -> int | str:
    """A count as a table or hover shows it: a withheld one (None) as its mask, "<5"."""
    return mask if value is None else value


def blank(value: Any) -> Any:
    return "" if value is None else value
