"""Maintenance scripts; importable so the tests can reuse their checks."""
