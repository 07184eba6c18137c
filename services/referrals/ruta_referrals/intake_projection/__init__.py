"""What referrals learns from intake's events: cases, victims and their consent."""
