"""Small SQL helpers shared by the list selectors."""

from __future__ import annotations

from datetime import date

from django.db.models import DateField, Func


class AddDays(Func):
    """`date + n days` as a date, on PostgreSQL and SQLite (n is a constant of ours)."""

    output_field = DateField()

    def __init__(self, expression, days: int):
        if not isinstance(days, int):
            raise TypeError("days must be an int")
        self.days = days
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template=f"(%(expressions)s + {self.days:d})", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template=f"date(%(expressions)s, '{self.days:+d} days')", **extra
        )


def _as_date(value) -> date:
    # date + int is a date on PostgreSQL; SQLite hands back the ISO text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
