"""Referrals to institutions, their status and notes, return home, milestones (referrals' API)."""
