"""Ruta's referrals service: referrals, partner API, webhooks, return and reintegration."""
