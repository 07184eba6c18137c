"""HTCDS export of cases and victims (non-identifying fields, optionally k-anonymous)."""
