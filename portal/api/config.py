"""What the docking API is configured with: rate limits per token and per address, concurrent streams, and the
per-call limits of its queries (`DockingLimits`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from govhub.services.docking import DockingLimits


@dataclass(frozen=True)
class ApiConfig:
    per_token_per_minute: int = 600  # calls per token (the bucket is the token presented, valid or not)
    per_address_per_minute: int = 1200  # calls per client address, whatever token they carry
    streams_per_token: int = 2  # whole-table downloads running at once per token (each holds a DuckDB)
    limits: DockingLimits = field(default_factory=DockingLimits)
