"""Statistics (and export) jobs read from a replica when one is configured; writes never.

`DATABASE_REPLICA_URL` adds the `replica` database. Code that only reads for an analysis
runs inside `replica_reads()` (the statistics job does: `outcomes.services.compute`);
while it does, every ORM read goes to the replica and `read_alias()` names it for the raw
cursors (COPY, snapshots). Everything else, and every write, uses `default`. Without a
replica everything uses `default`. Tests run the replica as Django's test mirror of
`default`, so they see the same rows.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

REPLICA = "replica"
_statistics_reads = contextvars.ContextVar("statistics_reads", default=False)


def has_replica() -> bool:
    return REPLICA in connections.settings


def read_alias() -> str:
    """The database a statistics read uses right now."""
    return REPLICA if _statistics_reads.get() and has_replica() else "default"


@contextmanager
def replica_reads() -> Iterator[str]:
    """Send this context's reads to the replica (if any); yields the alias used. A thread
    started inside must copy the context (`contextvars.copy_context().run`)."""
    token = _statistics_reads.set(True)
    try:
        yield read_alias()
    finally:
        _statistics_reads.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        return REPLICA if _statistics_reads.get() and has_replica() else None

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the same rows

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db != REPLICA
