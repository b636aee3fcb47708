"""The schema library of the running Home Assistant, for config-flow forms.

Home Assistant 2026.9 replaced voluptuous with probatio (same API) and types its flow
helpers with probatio's classes; earlier releases only have voluptuous. Releases that run
on Python 3.13 predate the switch, so the version check keeps each type checker on the
library its release has.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 14):
    try:
        import probatio as vol
    except ImportError:  # Home Assistant 2026.3 to 2026.8: Python 3.14, still voluptuous
        import voluptuous as vol  # type: ignore[no-redef]
else:
    import voluptuous as vol

__all__ = ["vol"]
