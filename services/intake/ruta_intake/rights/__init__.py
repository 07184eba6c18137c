"""Data subjects' rights (Ley 29733): rectification, erasure of relatives, the access export."""
