"""Synthetic demo cohorts calibrated on the published studies (see calibration.py).

`seed_cohort` writes a deterministic cohort; `ensure_demo_users` the demo sites and accounts.
"""

from registry.demo.cohort import DEFAULT_ANCHOR, MODELS, seed_cohort
from registry.demo.users import SYSTEM_USERNAME, demo_accounts, demo_sites, ensure_demo_users

__all__ = [
    "DEFAULT_ANCHOR",
    "MODELS",
    "SYSTEM_USERNAME",
    "demo_accounts",
    "demo_sites",
    "ensure_demo_users",
    "seed_cohort",
]
