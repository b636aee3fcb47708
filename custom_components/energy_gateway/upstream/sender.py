"""One authenticated POST to the portal, and what its answer means for delivery.

Plain Python on aiohttp (no Home Assistant import): Home Assistant passes its shared client
session in. The token goes only into the Authorization header and is never logged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
import ssl

import aiohttp
from yarl import URL

from .retry import parse_retry_after

ANSWER_LIMIT = 300
"""Characters of the portal's answer kept for the flow and the repair issues."""


class Outcome(StrEnum):
    """What became of a request; each needs a different reaction."""

    DELIVERED = "delivered"
    BAD_URL = "bad_url"
    TLS_ERROR = "tls_error"
    AUTH_REJECTED = "auth_rejected"
    """401 or 403: the token is wrong; stop and ask for a new one."""
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    RETRY = "retry"
    """408, 429, 5xx: try again later (429 and 503 may say when)."""
    ENCODING_REFUSED = "encoding_refused"
    """415 to a gzipped body: send plain JSON instead."""
    REJECTED = "rejected"
    """Any other 4xx: the request itself is wrong; retrying would not help."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome, the HTTP status (when one came) and the start of the body."""

    outcome: Outcome
    status: int | None = None
    text: str = ""
    retry_after: float | None = None
    accepts_gzip: bool = False
    """The portal listed gzip in an Accept-Encoding response header (RFC 7694)."""


def check_url(url: str, *, allow_http: bool) -> URL | None:
    """The portal URL if usable: absolute, with a host, https unless http is allowed."""
    try:
        parsed = URL(url.strip())
    except (TypeError, ValueError):
        return None
    schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in schemes or not parsed.host:
        return None
    return parsed


def _classify(status: int, gzipped: bool) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in (401, 403):
        return Outcome.AUTH_REJECTED
    if status == 415 and gzipped:
        return Outcome.ENCODING_REFUSED
    if status in (408, 429) or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECTED


async def post(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    body: bytes,
    *,
    key: str,
    gzipped: bool,
    seconds: float,
) -> Answer:
    """POST `body` once and classify the answer; never raises for network trouble."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    try:
        # asyncio's own timeout covers connecting, sending and reading the whole answer.
        async with (
            asyncio.timeout(seconds),
            session.post(url, data=body, headers=headers) as response,
        ):
            text = (await response.text(errors="replace"))[:ANSWER_LIMIT]
            accepted = response.headers.get("Accept-Encoding", "")
            retry_after = (
                parse_retry_after(response.headers.get("Retry-After"))
                if response.status in (429, 503)
                else None
            )
            return Answer(
                outcome=_classify(response.status, gzipped),
                status=response.status,
                text=text,
                retry_after=retry_after,
                accepts_gzip="gzip" in accepted.lower(),
            )
    except aiohttp.InvalidURL as err:
        return Answer(Outcome.BAD_URL, text=type(err).__name__)
    except (aiohttp.ClientSSLError, ssl.SSLError) as err:
        return Answer(Outcome.TLS_ERROR, text=str(err)[:ANSWER_LIMIT])
    except TimeoutError:
        return Answer(Outcome.TIMEOUT)
    except (aiohttp.ClientError, OSError) as err:
        return Answer(Outcome.UNREACHABLE, text=str(err)[:ANSWER_LIMIT])
