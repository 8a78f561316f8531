"""The sign-in lockout backend (django-axes)."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Axes refuses an authenticate() call without a request. Every sign-in over HTTP passes
    one (the login page, the admin, DRF); calls without one come from code that already holds
    the password (the test client's login(), a shell), which a lockout by address cannot
    apply to. For those this backend steps aside and the next backend decides."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
