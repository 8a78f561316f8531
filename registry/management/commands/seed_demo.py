"""`manage.py seed_demo`: a deterministic, calibrated demo cohort and the demo accounts."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from registry.demo import DEFAULT_ANCHOR, ensure_demo_users, seed_cohort
from registry.demo.users import MAX_SITES
from registry.models import Patient


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Create the demo sites and accounts, then a synthetic cohort of PVP, PKP, Vesselplasty "
        "and VBS patients. The same --seed always gives the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--sites", type=_positive, default=4)
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=5000,
            help="patients written at a time, in steps of 1,000 (does not change the rows)",
        )
        parser.add_argument(
            "--anchor",
            type=date.fromisoformat,
            default=DEFAULT_ANCHOR,
            help="the cohort's 'today': nothing happens after it (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but ensure the demo accounts) if any patient exists",
        )

    def handle(
        self,
        *args,
        patients: int,
        seed: int,
        sites: int,
        batch_size: int,
        anchor: date,
        if_empty: bool,
        **options,
    ) -> None:
        if patients < 0 or seed < 0:
            raise CommandError("--patients and --seed must not be negative.")
        if sites > MAX_SITES:
            raise CommandError(f"--sites must be at most {MAX_SITES}.")
        if anchor > timezone.localdate():
            raise CommandError(f"--anchor {anchor} is in the future; no record may be.")
        if if_empty:
            with transaction.atomic():
                ensure_demo_users(sites)
                if Patient.objects.exists():
                    self.stdout.write("A cohort exists already: nothing seeded.")
                    return
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            self.stdout.write(f"  {done:>7} / {total} patients  {elapsed:6.1f} s")

        counts = seed_cohort(
            patients=patients,
            seed=seed,
            site_count=sites,
            batch_size=batch_size,
            anchor=anchor,
            progress=progress if patients >= 10 * batch_size else None,
        )
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{label.split('.')[1]} {count}" for label, count in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {patients} demo patients (seed {seed}, {sites} sites, anchor {anchor}) "
                f"in {elapsed:.1f} s: {summary}; each with its history row."
            )
        )
