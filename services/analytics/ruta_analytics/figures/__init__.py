"""Figures: exact and suppressed, computed on read from the facts; the annual report."""
