"""Parcours reporting service: the steering committee's figures, built from case events."""
