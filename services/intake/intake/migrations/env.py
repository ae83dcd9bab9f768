"""Alembic environment of the intake service (applied at start; see parcours_shared.migrations)."""
from parcours_shared.migrations import run

from intake.store import metadata

run(metadata)
