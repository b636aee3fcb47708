"""Names and defaults of the upstream portal entry."""

from __future__ import annotations

from typing import Final

ENTRY_KIND: Final = "kind"
"""Entry data key that tells an upstream entry from a meter's (meters have none)."""
KIND_UPSTREAM: Final = "upstream"

CONF_ALLOW_HTTP: Final = "allow_http"
CONF_GATEWAY_ID: Final = "gateway_id"
CONF_PAYLOAD_FORMAT: Final = "payload_format"
CONF_PUSH_INTERVAL: Final = "push_interval"
CONF_METERS: Final = "meters"
"""Entry ids of the meters to send; empty means every meter."""
CONF_RETENTION_DAYS: Final = "retention_days"

DEFAULT_PUSH_INTERVAL: Final = 30
DEFAULT_RETENTION_DAYS: Final = 7
MAX_OUTBOX_BYTES: Final = 512 * 1024 * 1024
"""Size limit of the stored snapshots: 7 days of 32 meters at 30 s (about 300 MB) fit."""

MAX_SNAPSHOTS_PER_BATCH: Final = 500
MAX_BATCHES_PER_PUSH: Final = 8
"""A backlog drains up to this many batches per interval (4,000 snapshots, 125 times what 32
meters produce in 30 s), while each interval stays bounded in time and memory."""
REQUEST_TIMEOUT: Final = 30.0

SIGNAL_SNAPSHOT: Final = "energy_gateway_snapshot"
"""Dispatcher signal of every meter's new snapshot: (meter entry id, Snapshot)."""

ISSUE_TOKEN_REJECTED: Final = "upstream_token_rejected"  # noqa: S105 - an issue id
ISSUE_REJECTED: Final = "upstream_rejected"
ISSUE_DROPPED: Final = "upstream_dropped"
