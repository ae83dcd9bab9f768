"""Parcours diagnostic service: the export-readiness assessment."""
