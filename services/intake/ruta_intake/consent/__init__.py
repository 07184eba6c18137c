"""Consent: versioned per victim and purpose, and its withdrawal."""
