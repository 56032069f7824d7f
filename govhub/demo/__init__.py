"""The demo district."""
