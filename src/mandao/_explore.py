"""zeep's proxies for REPL exploration, with ``sn`` and ``pwd`` already filled in."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._operations import OPERATIONS, Operation, PasswordForm, Protocol
from ._wsdl import Service

if TYPE_CHECKING:
    import requests

    from ._config import Timeouts
    from ._transports.wsdl import Wsdl

#: Calls one operation of a service at the active host, sn and pwd added: (op, kwargs) -> result.
Caller = Callable[[Operation, Mapping[str, str]], Any]

__all__ = ["ServiceExplorer"]


#: Operations whose raw call the client's own method does better: a send or a
#: registration the journal does not record, or replies and reports the gateway gives once
#: (fetched here, they are gone from it and never stored).
_UNRECORDED = {
    "mdsmssend": "client.send()", "mdgxsend": "client.send_personalized()",
    "Register": "client.register()", "UnRegister": "client.unregister()",
    "mo": "client.fetch_replies()", "mo2": "client.fetch_replies()",
    "RECSMS_UTF8": "client.fetch_replies()",
    "report": "client.fetch_reports()", "report2": "client.fetch_reports()",
}  # fmt: skip


#: What a raw call leaves out, by the client's method that does it instead.
_SENT = "is not journaled, nor checked (signature, suppression list, duplicates)"
_MISSED = {
    "client.send()": _SENT,
    "client.send_personalized()": _SENT,
    "client.register()": "is not journaled, nor counted against the day's 10 (vendor §4.2)",
    "client.unregister()": "is not journaled, nor counted against the day's 10 (vendor §4.2)",
    "client.fetch_replies()": "takes replies the gateway gives once, and stores none of them",
    "client.fetch_reports()": "stores no report, nor matches any to the journal's sends",
}


class _PrefilledOperation:
    """One operation of a zeep proxy; ``sn`` and the right form of ``pwd`` are added."""

    def __init__(self, explorer: ServiceExplorer, op: Operation) -> None:
        self._explorer = explorer
        self._op = op
        instead = _UNRECORDED.get(op.name)
        self.__doc__ = (
            f"{op.name}({', '.join(op.params[2:])}) -> str: the raw result string.\n\n"
            f"Calls zeep's proxy at the active host; sn and pwd ({op.pwd} form) are filled in."
            + (f" Not journaled, nor checked: {instead} is the call to use." if instead else "")
        )

    def __call__(self, *args: str, **kwargs: str) -> Any:
        op = self._op
        if args:
            fields = ", ".join(f"{name}=..." for name in op.params[2:])
            raise TypeError(f"give {op.name}'s fields by name: {op.name}({fields})")
        instead = _UNRECORDED.get(op.name)
        if instead is not None:
            warnings.warn(
                f"{op.name} through the raw proxy {_MISSED[instead]}: {instead} does it all",
                stacklevel=2,
            )
        return self._explorer._call(op, kwargs)

    def __repr__(self) -> str:
        return f"<{self._op.name}({', '.join(self._op.params[2:])}) sn, pwd filled in>"


class ServiceExplorer:
    """One service's operations as attributes; each calls zeep's proxy with credentials set.

    ``proxy`` is zeep's own ``ServiceProxy`` for the active host (credentials not set).
    """

    def __init__(self, service: Service, call: Caller, proxy: Callable[[], Any]) -> None:
        self.service = service
        self._call = call
        self._proxy = proxy

    @classmethod
    def over(
        cls,
        service: Service,
        protocol: Protocol,
        *,
        host: Callable[[], str],
        pwd: Callable[[PasswordForm], str],
        sn: str,
        wsdl: Callable[[], Wsdl],
        carrier: Callable[[], tuple[requests.Session, Timeouts]],
    ) -> ServiceExplorer:
        """The explorer of ``service`` at the client's active ``host``, zeep carrying it."""
        from ._transports.proxy import call_proxy, service_proxy

        def proxy() -> Any:
            return service_proxy(wsdl(), carrier(), service, protocol, host())

        def call(op: Operation, kwargs: Mapping[str, str]) -> Any:
            full = {"sn": sn, "pwd": pwd(op.pwd), **kwargs}
            return call_proxy(getattr(proxy(), op.name), full, host=host(), operation=op.name)

        return cls(service, call, proxy)

    @property
    def operations(self) -> tuple[str, ...]:
        """Names of the operations of this service."""
        return tuple(name for name, op in OPERATIONS.items() if op.service == self.service)

    @property
    def proxy(self) -> Any:
        """zeep's ``ServiceProxy`` for this service at the active host."""
        return self._proxy()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        op = OPERATIONS.get(name)
        if op is None or op.service != self.service:
            raise AttributeError(
                f"the {self.service.name} service has no operation {name!r}; "
                f"it has {', '.join(self.operations)}"
            )
        return _PrefilledOperation(self, op)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.operations})

    def __repr__(self) -> str:
        ops = ", ".join(
            f"{name}({', '.join(OPERATIONS[name].params[2:])})" for name in self.operations
        )
        return f"<mandao {self.service.name} service ({self.service.namespace}): {ops}>"
