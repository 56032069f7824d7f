"""Where a hub keeps its state and how it is configured: made once at the edge, passed down.

An entry point (the CLI's `main`, the Dagster code location, the portal, a test) calls `get_settings()` once; every
layer below takes the resulting `Settings` and never reads the environment itself. Another data folder gives another,
independent hub. Nothing here touches the disk except reading the hub's optional `govhub.yaml`.

Precedence for each value: an explicit argument, then the environment, then `<home>/govhub.yaml` (settings a hub
keeps for itself, e.g. the address `govhub demo` serves its agencies' API on, the catalog `govhub init` chose), then
the built-in default.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

HUB_FILE = "govhub.yaml"
DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


MIN_AUDIT_RETENTION_DAYS = 180  # six months (网络安全法 Art. 21), counted generously


@dataclass(frozen=True)
class Settings:
    home: Path
    catalog_dir: Path
    state_url: str = ""  # "" = SQLite under state/ (see __post_init__)
    secrets_file: Path | None = None
    dagster_home: Path | None = None
    alert_webhook: str | None = None
    reports_url: str | None = None  # where people open reports/ (the demo's report server), else file URLs
    stage_memory_bytes: int = 256 << 20  # a load's staged rows stay in memory up to this size
    # a workbook (xlsx/xls) is read in a process of its own, ended beyond these (warehouse/sheet_guard.py)
    sheet_read_timeout_s: float = 30.0
    sheet_read_memory_mb: int = 1024
    duckdb_memory_limit: str = "2GB"  # per load; DuckDB spills under hub/_spill/ beyond it
    duckdb_threads: int | None = (
        None  # per load; None: DuckDB's default (the cores). Fewer threads, fewer hash tables
    )
    # notices (催报) by e-mail: the SMTP server the hub hands them to; none configured: e-mail notices wait as failed
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "govhub@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    remind_working_days: int = 2  # reminders go out this many working days before a due date
    # 网络安全法 Art. 21: network logs kept no less than six months; `govhub events prune` keeps at least this many days
    audit_retention_days: int = 180
    # scale-out (docs/DEPLOYMENT.md): Dagster runs its steps on Celery workers through this broker when set
    # (e.g. pyamqp://guest:guest@rabbitmq:5672//), on the queue workers listen to
    celery_broker: str | None = None
    celery_backend: str = "rpc://"
    celery_queue: str = "dagster"
    # object storage (s3://bucket/prefix): every publish also lands there, switched by a conditional pointer write,
    # and resource locks hold across machines through it (warehouse/object_store.py); endpoint for MinIO, moto…
    storage_url: str | None = None
    storage_endpoint: str | None = None
    storage_lock_lease_s: float = 600.0  # a lock object older than this is taken over (its holder died)
    # the day the hub went into service (`govhub init` and `govhub demo` keep it in govhub.yaml): scorecards judge no
    # period due before it — the hub has no record of those; None (a hub older than the setting): the whole window
    in_service_since: dt.date | None = None
    # ${VAR} values the catalog's connection settings may use (the environment as it was at the edge, GOVHUB_HOME
    # always) and GOVHUB_SECRET_<NAME> credentials: never printed
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS:
            from govhub.problems import GovhubError, Problem

            raise GovhubError(
                Problem(
                    "config.audit_retention",
                    f"审计日志保存期限（GOVHUB_AUDIT_RETENTION_DAYS）不得少于 {MIN_AUDIT_RETENTION_DAYS} 天"
                    f"（网络安全法第二十一条：网络日志留存不少于六个月），当前设置为 {self.audit_retention_days} 天",
                    value=str(self.audit_retention_days),
                    expected=f"≥ {MIN_AUDIT_RETENTION_DAYS}",
                )
            )
        defaults = {
            "state_url": self.state_url or _folder_store(self.home),
            "secrets_file": self.secrets_file or self.home / "secrets.yaml",
            "dagster_home": self.dagster_home or self.home / "dagster",
            "variables": MappingProxyType({**self.variables, "GOVHUB_HOME": str(self.home)}),
        }
        for name, value in defaults.items():
            object.__setattr__(self, name, value)

    @property
    def state_in_folder(self) -> bool:
        """Whether the workflow store is the data folder's own SQLite file (the default), not configured elsewhere."""
        return self.state_url == _folder_store(self.home)

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
        """The DuckDB file engineers and the office open: views over the current snapshots."""
        return self.home / "hub.duckdb"

    @property
    def workspaces_dir(self) -> Path:
        """Per-agency DuckDB files holding only what that agency may reach: workspaces/<agency>/workspace.duckdb."""
        return self.home / "workspaces"

    @property
    def inbox_dir(self) -> Path:
        """Uploaded fill-in sheets waiting for the inbox sensor: inbox/<agency>/<resource>/<person>/."""
        return self.home / "inbox"

    @property
    def expectations_dir(self) -> Path:
        """GE suites as `govhub quality suites` writes them, and the stores the Data Docs are built from."""
        return self.home / "expectations"

    @property
    def reports_dir(self) -> Path:
        """Rejection reports and annotated workbooks returned to agencies; Data Docs."""
        return self.home / "reports"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def demo_dir(self) -> Path:
        """The demo district's source systems: its API data, its SQL database, its agencies' sheets."""
        return self.home / "demo"

    @property
    def hub_file(self) -> Path:
        return self.home / HUB_FILE

    def with_variables(self, **values: str) -> Settings:
        return replace(self, variables={**self.variables, **values})

    def reports_url_for(self, relative: str) -> str:
        """A link people can open to a file under reports/: the report server when one runs, else a file URL."""
        if self.reports_url:
            return f"{self.reports_url.rstrip('/')}/{relative.lstrip('/')}"
        return (self.reports_dir / relative).as_uri()

    def prepare_dagster_home(self) -> Path:
        """A persistent DAGSTER_HOME under the data folder, configured by the project's dagster.yaml unless the
        instance already has its own (an administrator's PostgreSQL storage or limits are never overwritten)."""
        assert self.dagster_home is not None
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        if DAGSTER_YAML.exists() and not (self.dagster_home / "dagster.yaml").exists():
            shutil.copyfile(DAGSTER_YAML, self.dagster_home / "dagster.yaml")
        return self.dagster_home


def _hub_file(home: Path) -> dict[str, Any]:
    path = home / HUB_FILE
    if not path.is_file():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def get_settings(
    home: str | os.PathLike[str] | None = None,
    catalog: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from arguments, else the environment ($GOVHUB_*), else `<home>/govhub.yaml`, else defaults."""
    env = os.environ if env is None else env
    home_path = Path(home or env.get("GOVHUB_HOME") or "data").resolve()
    stored = _hub_file(home_path)
    chosen = catalog or env.get("GOVHUB_CATALOG")
    if chosen:
        catalog_path = Path(chosen).resolve()
    # a hub made by `govhub init` remembers its catalog (absolute, or under the hub)
    elif stored.get("catalog"):
        catalog_path = (home_path / str(stored["catalog"])).resolve()
    else:
        catalog_path = Path("catalog").resolve()
    variables = {str(k): str(v) for k, v in (stored.get("variables") or {}).items()}
    variables.update(env)  # the environment wins over what the hub file says

    def pick(name: str, default: Any = None) -> Any:
        return env.get(name) or stored.get(name.removeprefix("GOVHUB_").lower()) or default

    return Settings(
        home=home_path,
        catalog_dir=catalog_path,
        state_url=pick("GOVHUB_STATE_URL", ""),
        secrets_file=Path(p) if (p := pick("GOVHUB_SECRETS_FILE")) else None,
        dagster_home=Path(p) if (p := env.get("DAGSTER_HOME")) else None,
        alert_webhook=pick("GOVHUB_ALERT_WEBHOOK"),
        reports_url=pick("GOVHUB_REPORTS_URL"),
        stage_memory_bytes=int(pick("GOVHUB_STAGE_MEMORY_MB", 256)) << 20,
        sheet_read_timeout_s=float(pick("GOVHUB_SHEET_READ_TIMEOUT_S", 30)),
        sheet_read_memory_mb=int(pick("GOVHUB_SHEET_READ_MEMORY_MB", 1024)),
        duckdb_memory_limit=str(pick("GOVHUB_DUCKDB_MEMORY_LIMIT", "2GB")),
        duckdb_threads=int(t) if (t := pick("GOVHUB_DUCKDB_THREADS")) else None,
        smtp_host=pick("GOVHUB_SMTP_HOST"),
        smtp_port=int(pick("GOVHUB_SMTP_PORT", 25)),
        smtp_from=str(pick("GOVHUB_SMTP_FROM", "govhub@localhost")),
        smtp_user=pick("GOVHUB_SMTP_USER"),
        smtp_password=pick("GOVHUB_SMTP_PASSWORD"),
        smtp_starttls=str(pick("GOVHUB_SMTP_STARTTLS", "")).lower() in ("1", "true", "yes"),
        remind_working_days=int(pick("GOVHUB_REMIND_WORKING_DAYS", 2)),
        audit_retention_days=int(pick("GOVHUB_AUDIT_RETENTION_DAYS", MIN_AUDIT_RETENTION_DAYS)),
        celery_broker=pick("GOVHUB_CELERY_BROKER"),
        celery_backend=str(pick("GOVHUB_CELERY_BACKEND", "rpc://")),
        celery_queue=str(pick("GOVHUB_CELERY_QUEUE", "dagster")),
        storage_url=pick("GOVHUB_STORAGE_URL"),
        storage_endpoint=pick("GOVHUB_STORAGE_ENDPOINT"),
        storage_lock_lease_s=float(pick("GOVHUB_STORAGE_LOCK_LEASE_S", 600)),
        in_service_since=_date_setting("GOVHUB_IN_SERVICE_SINCE", pick("GOVHUB_IN_SERVICE_SINCE")),
        variables=variables,
    )


def _date_setting(name: str, value: Any) -> dt.date | None:
    """A date from the environment (text) or govhub.yaml (YAML reads 2026-11-10 as a date already)."""
    if isinstance(value, dt.datetime):  # YAML reads 2026-11-10 10:00 as a moment: its day
        return value.date()
    if value is None or value == "" or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        from govhub.problems import GovhubError, Problem

        shown = str(value)[:40]
        message = f"平台启用日期（{name} 或 govhub.yaml 的 in_service_since）应为日期，如 2026-11-10，当前为“{shown}”"
        raise GovhubError(Problem("config.bad_date", message, value=shown, expected="YYYY-MM-DD")) from None


def save_hub_setting(home: Path, name: str, value: Any) -> None:
    """Write one setting into `<home>/govhub.yaml` (e.g. the catalog folder `govhub init` chose)."""
    import yaml

    data = _hub_file(home)
    data[name] = value
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{HUB_FILE}.{os.getpid()}"
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    os.replace(tmp, home / HUB_FILE)


def _folder_store(home: Path) -> str:
    return f"sqlite:///{home / 'state' / 'govhub.db'}"


# what any hub's data folder holds once `govhub init`, `govhub demo` or a restore has made it
HUB_MARKS = (HUB_FILE, "state", "hub", "hub.duckdb", "landing")


def holds_a_hub(home: Path) -> bool:
    """Whether the folder holds a hub already (the CLI refuses to act in one that does not; `govhub init` keeps an
    existing hub's in-service date)."""
    return any((home / name).exists() for name in HUB_MARKS)


def mark_in_service(home: Path, day: dt.date) -> dt.date:
    """Keep the day the hub went into service in its govhub.yaml, unless it has one already; returns the kept day."""
    kept = _date_setting("in_service_since", _hub_file(home).get("in_service_since"))
    if kept is None:
        save_hub_setting(home, "in_service_since", day.isoformat())
    return kept or day


def save_hub_variables(settings: Settings, **values: str) -> None:
    """Remember catalog variables in the hub's own `govhub.yaml` (e.g. the demo API's address), so every later
    process on this hub — another terminal's `govhub ingest`, Dagster — resolves the catalog the same way."""
    import yaml

    data = _hub_file(settings.home)
    data["variables"] = {**(data.get("variables") or {}), **values}
    settings.home.mkdir(parents=True, exist_ok=True)
    tmp = settings.hub_file.with_name(f".{HUB_FILE}.{os.getpid()}")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    os.replace(tmp, settings.hub_file)
