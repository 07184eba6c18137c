"""Possible duplicates across offices, for coordinators."""
