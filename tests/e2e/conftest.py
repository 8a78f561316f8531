"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium comes from the distribution (/usr/bin/chromium); `playwright install` is never used.
Without it the tests skip and say why, except in CI (CI=true) where they fail.
Screenshots go to artifacts/e2e/ (git-ignored; CI keeps them as artifacts).
"""

import importlib
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to
# set up data are still plain synchronous calls. Set only while the browser runs: a leaked
# flag would reach `check --deploy` in other tests (async.E001).
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def eager():
    """Celery jobs the pages start (a check, an export, a run) run in the request, so that
    the page's status poll finds them done (the live server has no worker)."""
    from registry.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def sign_in(page, user) -> None:
    """The sign-in form, as a person fills it; waits for the page it leads to."""
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _add_techniques() -> None:
    from django.apps import apps

    importlib.import_module("registry.migrations.0002_techniques").add_techniques(apps, None)


@pytest.fixture(scope="module", autouse=True)
def _reference_rows_survive_the_flush(django_db_blocker):
    """A live-server test empties every table when it ends; once this module is done, put
    back the rows the data migration wrote so that later tests find the techniques."""
    yield
    with django_db_blocker.unblock():
        _add_techniques()


@pytest.fixture
def techniques(transactional_db):
    """The reference techniques: a live-server test may start on a flushed database."""
    _add_techniques()


@pytest.fixture
def north(techniques, settings, tmp_path):
    """A site with three cases (cement volumes 4.0, 5.5 and 6.5 ml, every patient named
    Zebedee-Quist, a name no de-identified file may hold); exports go to a temporary
    folder."""
    from decimal import Decimal

    from tests.factories import ProcedureFactory, SiteFactory, TreatedLevelFactory, VisitFactory

    settings.EXPORT_ROOT = tmp_path / "exports"
    site = SiteFactory(code="north", name="Northgate University Hospital")
    for ml in ("4.0", "5.5", "6.5"):
        procedure = ProcedureFactory(patient__site=site, patient__family_name="Zebedee-Quist")
        VisitFactory(procedure=procedure)
        TreatedLevelFactory(procedure=procedure, cement_volume_ml=Decimal(ml))
    return site
