"""Services: one module per user action, called by every entry point (CLI, Dagster, portal)."""
