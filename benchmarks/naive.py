"""The baseline pipeline: what a competent engineer writes first with pandas and Great Expectations.

read (pandas: `read_csv(encoding="gbk")` / `read_excel` with openpyxl) → type the columns → validate the full suite
with GE 1.x on pandas (`expectations.ge_runner.run_ge`, a fresh ephemeral context per call, as a script would) →
diff against the previous snapshot with `merge(..., indicator=True)` → `to_parquet`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govhub.catalog.model import FieldType, Resource


def read_sheet_pandas(resource: Resource, path: Path) -> Any:
    """The delivered sheet as a DataFrame in catalog types (text as str, dates as datetime64, numbers as float)."""
    import pandas as pd

    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, encoding="gbk", dtype=str)
    else:
        df = pd.read_excel(path, engine="openpyxl", dtype=str)
    df = df.rename(columns={f.label: f.name for f in resource.fields})
    return typed_frame(resource, df)


def typed_frame(resource: Resource, df: Any) -> Any:
    import pandas as pd

    for f in resource.fields:
        if f.type is FieldType.DATE:
            df[f.name] = pd.to_datetime(df[f.name], format="%Y-%m-%d")
        elif f.type is FieldType.DATETIME:
            df[f.name] = pd.to_datetime(df[f.name], format="ISO8601")
        elif f.type is FieldType.NUMBER:
            df[f.name] = pd.to_numeric(df[f.name])
        elif f.type is FieldType.INTEGER:
            df[f.name] = pd.to_numeric(df[f.name]).astype("Int64")
    return df


def validate_ge(resource: Resource, df: Any) -> list[dict[str, Any]]:
    """The resource's full suite through GE on pandas (text columns as `object`: GE 1.x cannot name pandas 3 `str`)."""
    from govhub.expectations.ge_runner import run_ge
    from govhub.expectations.validate import suite_for

    frame = df.copy()
    for name in frame.columns:
        if str(frame[name].dtype) == "str":
            frame[name] = frame[name].astype(object)
    return run_ge(suite_for(resource), frame)


def read_snapshot(resource: Resource, path: Path) -> Any:
    import pandas as pd

    return typed_frame(
        resource,
        pd.read_parquet(path).astype({f.name: "str" for f in resource.fields if f.type is FieldType.STRING}),
    )


def diff_pandas(resource: Resource, new: Any, old: Any) -> dict[str, int]:
    """Keyed diff by `merge(indicator=True)`: inserted, deleted, updated (any column differs, NaN equal to NaN)."""
    keys = resource.primary_key
    merged = new.merge(old, on=keys, how="outer", indicator=True, suffixes=("", "__old"))
    both = merged[merged["_merge"] == "both"]
    changed = None
    for name in resource.field_names:
        if name in keys:
            continue
        a, b = both[name], both[f"{name}__old"]
        differs = ~((a == b) | (a.isna() & b.isna()))
        changed = differs if changed is None else (changed | differs)
    return {
        "inserted": int((merged["_merge"] == "left_only").sum()),
        "deleted": int((merged["_merge"] == "right_only").sum()),
        "updated": int(changed.sum()) if changed is not None else 0,
        "rows": len(new),
    }


def naive_load(resource: Resource, sheet: Path, previous: Path | None, dest: Path) -> dict[str, Any]:
    """The whole naive pipeline for one delivered sheet; returns the diff counts and failed expectations."""
    df = read_sheet_pandas(resource, sheet)
    results = validate_ge(resource, df)
    if previous is not None and previous.exists():
        counts = diff_pandas(resource, df, read_snapshot(resource, previous))
    else:
        counts = {"inserted": len(df), "deleted": 0, "updated": 0, "rows": len(df)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(dest, compression="zstd", index=False)
    counts["failed_expectations"] = sum(1 for r in results if not r["success"])
    return counts


def scan_grant_uses(settings: Any, grants: list[Any]) -> dict[str, Any]:
    """W12's baseline: every use event since the earliest grant was issued, read and counted per grant."""
    from govhub.clock import stored_moment
    from govhub.events import list_events
    from govhub.governance.sharing_measures import USE_KINDS, GrantUse

    uses = {g.id: GrantUse() for g in grants}
    since = min(stored_moment(g.created_at) for g in grants)
    for event in list_events(settings, kinds=USE_KINDS, since=since):
        for grant in event.payload.get("grants") or []:
            if isinstance(grant, str) and grant in uses:
                uses[grant].count(event.kind, event.at, event.payload)
    return uses
