"""Alembic environment of the reporting service (applied at start; see parcours_shared.migrations)."""
from parcours_shared.migrations import run

from reporting.store import metadata

run(metadata)
