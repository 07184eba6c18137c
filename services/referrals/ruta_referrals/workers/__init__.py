"""Background work of referrals: the two Kafka consumers, the webhook dispatcher, overdue checks."""
