"""Settings of the server bench_api starts: the registry's, plus a bare comparison view."""

from registry.settings import *  # noqa: F403 - the same settings, two overrides

ROOT_URLCONF = "bench.api_urls"
DEBUG = False
