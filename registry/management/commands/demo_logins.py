"""`manage.py demo_logins`: the demo accounts, their passwords, roles and sites, and the URL."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from registry.demo import demo_accounts, demo_sites
from registry.demo.users import MAX_SITES
from registry.models import Site, SiteMembership

DEFAULT_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = "Print the demo accounts made by seed_demo (username, password, role, sites)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=DEFAULT_URL)

    def handle(self, *args, url: str, **options) -> None:
        known = [code for code, _ in demo_sites(MAX_SITES)]
        present = set(Site.objects.filter(code__in=known).values_list("code", flat=True))
        codes = [code for code in known if code in present]
        accounts = demo_accounts(codes)
        existing = set(
            get_user_model()
            .objects.filter(username__in=[a.username for a in accounts])
            .values_list("username", flat=True)
        )
        memberships: dict[str, list[str]] = {}
        for username, code in SiteMembership.objects.filter(
            user__username__in=existing
        ).values_list("user__username", "site__code"):
            memberships.setdefault(username, []).append(code)
        for sites in memberships.values():
            sites.sort(key=known.index)

        rows = [("username", "password", "role", "sites")]
        for account in accounts:
            if account.username not in existing:
                continue
            if account.role == "superuser":
                sites = "all sites"
            else:
                sites = ", ".join(memberships.get(account.username, [])) or "-"
            rows.append((account.username, account.password, account.role_label, sites))

        if len(rows) == 1:
            self.stdout.write("No demo accounts yet: run `manage.py seed_demo` first.")
            return
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("Demo accounts (local demo only; never use these passwords elsewhere):")
        for i, row in enumerate(rows):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(f"  {line.rstrip()}")
            if i == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
        self.stdout.write(f"\nOpen {url} and sign in with one of them.")
