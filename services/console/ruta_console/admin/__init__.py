"""Administration: institutions, their webhook secrets, dead webhook deliveries and replays."""
