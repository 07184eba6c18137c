"""Helpers for the analytics tests (not used by the service)."""
