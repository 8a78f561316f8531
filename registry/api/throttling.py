"""Per-token request budget (API_THROTTLE_RATE, default 600 requests per 10 minutes).

Each token has its own budget; a browser session counts per user, an anonymous caller per
address. Over budget: 429 with Retry-After (seconds until the oldest request in the window
leaves it).
"""

import math

from rest_framework.throttling import SimpleRateThrottle

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/10m" -> (600, 600); "100/hour" -> (100, 3600)."""
    count, _, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :][:1]
    if not count.isdigit() or unit not in _UNITS:
        raise ValueError(f"API_THROTTLE_RATE must look like 600/10m, got {rate!r}")
    return int(count), int(digits or 1) * _UNITS[unit]


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"

    def parse_rate(self, rate):
        if rate is None:
            return (None, None)
        return parse_rate(rate)

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        digest = getattr(token, "digest", None)
        if digest:
            ident = f"token:{digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return f"throttle_api_{ident}"

    def wait(self):
        if not self.history:
            return self.duration
        # Until the oldest request of the window expires: then one more is allowed.
        return max(1, math.ceil(self.duration - (self.now - self.history[-1])))
