"""The projection: events of every service in, fact documents and the audit ledger out."""
