"""Possible duplicates across offices: detected at registration, resolved by a coordinator."""
