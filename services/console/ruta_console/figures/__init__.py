"""Live figures with filters and charts, the annual report's downloads (analytics' API)."""
