"""Long actions (imports, the annual report): jobs whose progress every replica can show."""
