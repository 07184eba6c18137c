"""Closing a case: a case worker's request, a coordinator's approval or return."""
