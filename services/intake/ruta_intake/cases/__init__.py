"""Cases: the aggregate every intake record lives in (opening, facts, status, access)."""
