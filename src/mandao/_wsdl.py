"""Where the cached WSDLs are, and the two services they describe.

The WSDLs ship inside the package (``mandao/wsdl_cache/``) and are never fetched at run
time. In a source checkout (an editable install) they are read from the repository's
top-level ``wsdl_cache/`` folder, which is what the wheel packs. A copy that
``mandao wsdl refresh`` checked and stored in the user cache folder is preferred.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

__all__ = ["ACCOUNT", "SEND", "Service", "ServiceName", "user_wsdl_dir", "wsdl_dir"]

ServiceName = Literal["send", "account"]


class Service(NamedTuple):
    """One of the gateway's two ASMX services."""

    name: ServiceName
    namespace: str
    filename: str
    port: int

    @property
    def path(self) -> Path:
        """The WSDL in use: a checked user copy (``mandao wsdl refresh``), else the packaged one."""
        user = user_wsdl_dir() / self.filename
        return user if user.is_file() else self.packaged_path

    @property
    def packaged_path(self) -> Path:
        """The WSDL file shipped with mandao."""
        return wsdl_dir() / self.filename

    def binding(self, binding_name: str) -> str:
        """The qualified binding name zeep wants, e.g. ``{http://entinfo.cn/}WebServiceSoap``."""
        return f"{{{self.namespace}}}{binding_name}"


SEND = Service("send", "http://entinfo.cn/", "send-8061.wsdl", 8061)
ACCOUNT = Service("account", "http://tempuri.org/", "account-8060.wsdl", 8060)


def user_wsdl_dir() -> Path:
    """Where ``mandao wsdl refresh`` stores checked copies (``$MANDAO_CACHE_DIR``, platformdirs)."""
    given = os.environ.get("MANDAO_CACHE_DIR")
    if given:
        return Path(given) / "wsdl"
    import platformdirs  # here: only a first WSDL parse needs it

    return platformdirs.user_cache_path("mandao", appauthor=False) / "wsdl"


@cache
def wsdl_dir() -> Path:
    """The folder that holds the cached WSDLs (inside the package, or the source checkout)."""
    packaged = Path(__file__).resolve().parent / "wsdl_cache"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "wsdl_cache"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(  # pragma: no cover - a broken installation
        f"mandao's cached WSDLs are missing: looked in {packaged} and {checkout}"
    )
