"""The requests session that carries a client's requests (and its REPL proxies)."""

from __future__ import annotations

import requests
import zeep

from .. import _log  # noqa: F401 - installs log redaction before any request
from .._version import __version__

__all__ = ["session"]


def session(given: requests.Session | None = None) -> requests.Session:
    """``given``, or a new session; either way it says who is calling."""
    carrier = given or requests.Session()
    carrier.headers["User-Agent"] = f"mandao/{__version__} zeep/{zeep.__version__}"
    return carrier
