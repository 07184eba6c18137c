"""Every event payload model, one module per owning service."""
