"""Command line: `govhub ...`."""
