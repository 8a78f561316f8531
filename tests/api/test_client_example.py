"""The README's client example, run as written against a live server."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.api.cases import make_case

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    block = re.search(
        r"<!-- api-client-example -->\s*```python\n(.*?)```\s*<!-- /api-client-example -->",
        text,
        re.S,
    )
    assert block, "README.md lost its client example"
    return block.group(1)


# On SQLite a live-server test beside the browser tests upsets them (a FOREIGN KEY failure at
# their first commit): this one runs on the PostgreSQL pass. The reference techniques that the
# flush removes are put back by tests/conftest.py.
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="live-server example: PostgreSQL pass",
)
@pytest.mark.django_db(transaction=True)
def test_the_readme_client_example_runs_against_a_live_server(live_server, site_a, coordinator):
    for technique in ("PKP", "VBS") * 5:  # five of each: no cell below MIN_CELL_COUNT
        make_case(site_a, technique=technique)
    out = io.StringIO()
    call_command("create_api_token", "coordinator", "--name", "notebook", stdout=out, stderr=out)
    key = out.getvalue().strip().splitlines()[-1]
    printed = io.StringIO()
    environment = {"OVCF_URL": live_server.url, "OVCF_TOKEN": key}
    with mock.patch.dict(os.environ, environment), contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md", "exec"), {})  # noqa: S102 - our own README
    lines = printed.getvalue().splitlines()
    assert lines[0] == "10 patients changed since 2026-01-01"
    assert any(line.startswith("PKP baseline 5 8.0") for line in lines), lines
    assert any(line.startswith("VBS 12w 5 2.0") for line in lines), lines
    assert lines[-1].startswith("tests: ")
