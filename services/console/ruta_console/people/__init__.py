"""A victim's page: relatives, consents, care, personal data on purpose (intake's API)."""
