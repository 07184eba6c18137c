"""Cases, victims, relatives, consents, care and personal data (intake's API)."""
