"""Test utilities shared by the services' test suites (never imported by running services)."""
