"""Alembic environment of the diagnostic service (applied at start; see parcours_shared.migrations)."""
from parcours_shared.migrations import run

from diagnostic.store import metadata

run(metadata)
