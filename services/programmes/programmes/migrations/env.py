"""Alembic environment of the programmes service (applied at start; see parcours_shared.migrations)."""
from parcours_shared.migrations import run

from programmes.store import metadata

run(metadata)
