"""The store's Alembic environment (`env.py`) and revisions (`versions/NNNN_what.py`), shipped with the package."""
