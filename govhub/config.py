"""Where a hub keeps its state: one data folder ($GOVHUB_HOME) and one catalog folder ($GOVHUB_CATALOG).

Another data folder gives another, independent hub. Nothing here touches the disk; callers create what they use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    catalog_dir: Path

    @property
    def landing_dir(self) -> Path:
        """Every input as received, content-addressed; never overwritten or removed."""
        return self.home / "landing"

    @property
    def hub_dir(self) -> Path:
        """Immutable Parquet snapshots per agency/resource, plus their metadata."""
        return self.home / "hub"

    @property
    def hub_db(self) -> Path:
        """The DuckDB file analysts open: views over the current snapshots."""
        return self.home / "hub.duckdb"

    @property
    def inbox_dir(self) -> Path:
        """Uploaded fill-in sheets waiting for the inbox sensor: inbox/<agency>/<resource>/."""
        return self.home / "inbox"

    @property
    def reports_dir(self) -> Path:
        """Rejection reports and annotated workbooks returned to agencies; Data Docs."""
        return self.home / "reports"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def state_url(self) -> str:
        """The workflow store (event log, ledger, requests): SQLite by default, PostgreSQL by URL."""
        return os.environ.get("GOVHUB_STATE_URL") or f"sqlite:///{self.state_dir / 'govhub.db'}"

    @property
    def secrets_file(self) -> Path:
        """Connector credentials (API tokens), never in the catalog: a YAML map of name -> value."""
        return Path(os.environ.get("GOVHUB_SECRETS_FILE") or self.home / "secrets.yaml")

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.home / "dagster")

    @property
    def demo_dir(self) -> Path:
        """The demo district's source systems: its API data, its SQL database, its agencies' sheets."""
        return self.home / "demo"


def get_settings(
    home: str | os.PathLike[str] | None = None, catalog: str | os.PathLike[str] | None = None
) -> Settings:
    """Settings from arguments, else $GOVHUB_HOME / $GOVHUB_CATALOG, else ./data and ./catalog."""
    home_path = Path(home or os.environ.get("GOVHUB_HOME") or "data").resolve()
    catalog_path = Path(catalog or os.environ.get("GOVHUB_CATALOG") or "catalog").resolve()
    return Settings(home=home_path, catalog_dir=catalog_path)
