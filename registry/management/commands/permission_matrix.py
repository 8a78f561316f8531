"""Print the permission matrix as Markdown, or rewrite README.md's copy of it (--write)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from registry.permission_matrix import render_markdown

BEGIN = "<!-- permission-matrix:begin -->\n"
END = "<!-- permission-matrix:end -->\n"


class Command(BaseCommand):
    help = "Print registry.permission_matrix as Markdown; --write updates README.md."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="rewrite README.md's table")

    def handle(self, *args, write: bool = False, **options):
        table = render_markdown()
        if not write:
            self.stdout.write(table)
            return
        readme = Path(settings.BASE_DIR) / "README.md"
        text = readme.read_text()
        if BEGIN not in text or END not in text:
            raise SystemExit(f"README.md has no {BEGIN.strip()} ... {END.strip()} markers")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        readme.write_text(head + BEGIN + table + END + tail)
        self.stdout.write("README.md: permission matrix updated")
