"""A case's audit trail, its verification in plain Spanish, and its access log (analytics)."""
