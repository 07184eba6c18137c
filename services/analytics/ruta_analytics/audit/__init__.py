"""The audit trail: hash-chained entries per case or session, their verification, timelines."""
