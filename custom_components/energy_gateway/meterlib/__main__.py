"""`python -m custom_components.energy_gateway.meterlib ...`: see `cli.py`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
