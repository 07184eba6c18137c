"""Referrals to and from institutions: rules, storage, staff and partner routes."""
