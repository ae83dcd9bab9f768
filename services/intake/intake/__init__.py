"""Parcours intake service: the single window of the export pathway."""
