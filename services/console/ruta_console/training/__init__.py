"""Training sessions, participants, attendance, head counts, tests, imports, certificates."""
