"""Victims and their relatives: encrypted personal data, audited reads, erasure."""
