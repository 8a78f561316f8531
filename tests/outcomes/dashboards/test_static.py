"""plotly.js is served from the installed plotly package; dashboard templates hold no
inline script, style attribute or event handler (a strict CSP can come)."""

import re
from pathlib import Path

import plotly
from django.contrib.staticfiles import finders
from django.core.management import call_command

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "outcomes" / "dashboards"


def test_findstatic_finds_the_plotly_package_file(capsys):
    found = finders.find("plotly.min.js")
    expected = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    assert Path(found).resolve() == expected
    call_command("findstatic", "plotly.min.js")
    assert "package_data/plotly.min.js" in capsys.readouterr().out
    # nothing else of the package is exposed
    assert finders.find("widgetbundle.js") is None


def test_dashboard_templates_have_no_inline_code_or_style():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text), template
        assert "style=" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template
