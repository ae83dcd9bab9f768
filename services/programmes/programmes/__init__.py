"""Parcours programmes service: support offers, sessions, enrolments and outcomes."""
