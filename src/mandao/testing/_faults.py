"""Faults a sandbox host can be told to commit, and the rule that picks one per request.

A ``Fault`` is a frozen value: what goes wrong, for which requests, how often. A host keeps
a ``FaultPlan`` (ordered; the first fault that fires wins). "How often" is either the next
``times`` matching requests, or each matching request with ``probability`` (drawn from a
``random.Random(seed)``, so a run can be replayed), or both (at most ``times`` firings).
Faults act on operation calls only; ``?wsdl``, help pages and 404s are never failed.
"""

from __future__ import annotations

import difflib
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Literal, get_args

__all__ = ["FAULT_KINDS", "Fault", "FaultKind", "FaultPlan", "Hold"]

FaultKind = Literal[
    "hang",
    "slow",
    "drop-before",
    "drop-after",
    "http-error",
    "html",
    "malformed-xml",
    "truncated",
    "huge",
    "code",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

# Faults that replace the reply. Whether the request is carried out first (and so
# recorded in the ledger) is the fault's ``process``; these are the defaults: an error
# status or an HTML page says the request never reached the application, a garbled
# reply says it did and only the answer was lost.
_PROCESS_DEFAULT = {
    "http-error": False,
    "html": False,
    "malformed-xml": True,
    "truncated": True,
    "huge": True,
}


#: The settings each kind reads (the others are ignored on it, and left out of its repr).
_READS: dict[str, tuple[str, ...]] = {
    "slow": ("delay",),
    "http-error": ("status", "body", "process"),
    "html": ("body", "process"),
    "malformed-xml": ("process",),
    "truncated": ("process",),
    "huge": ("size", "process"),
    "code": ("code",),
}
_SETTINGS = ("delay", "status", "body", "code", "size", "process")


@dataclass(frozen=True)
class Fault:
    """One fault to inject on a host.

    Args:
        kind: ``hang`` (read the request, never answer), ``slow`` (answer after ``delay``
            seconds, the request in flight meanwhile), ``drop-before`` / ``drop-after``
            (reset the connection before / after carrying the request out), ``http-error``
            (``status`` 500/502/503 with ``body``), ``html`` (an HTML page with status 200),
            ``malformed-xml``, ``truncated`` (fewer bytes than Content-Length, then close),
            ``huge`` (a reply of about ``size`` bytes), ``code`` (answer ``code`` instead of
            carrying the request out).
        times: fire for the next this many matching requests.
        probability: fire for each matching request with this probability.
        seed: seed of the probability draws (None: a fixed seed of 0, still replayable).
        service: only ``"send"`` or ``"account"`` calls; None = both.
        operation: only this operation (exact name); None = any.
        process: for reply-replacing kinds, whether the request is carried out first.
    """

    kind: FaultKind
    times: int | None = None
    probability: float | None = None
    seed: int | None = None
    delay: float = 1.0
    status: int = 500
    body: str | None = None
    code: str | int = "-11"
    size: int = 8 * 1024 * 1024
    service: Literal["send", "account"] | None = None
    operation: str | None = None
    process: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.times is None and self.probability is None:
            object.__setattr__(self, "times", 1)
        if isinstance(self.code, int) and not isinstance(self.code, bool):
            object.__setattr__(self, "code", str(self.code))  # code=-4 as code="-4"
        if not isinstance(self.code, str) or not re.fullmatch(r"-?\d{1,18}", self.code):
            raise ValueError(f"code must be a result code such as '-4', got {self.code!r}")
        if self.kind == "http-error" and not 400 <= self.status <= 599:
            raise ValueError(f"an http-error's status is 400 to 599, got {self.status!r}")
        self._check_scope()

    def __repr__(self) -> str:
        """The kind, then only what is set or read by it: ``Fault('hang', times=1)``."""
        reads = _READS.get(self.kind, ())
        shown = [repr(self.kind)]
        for name in ("times", "probability", "seed", *_SETTINGS, "service", "operation"):
            value = getattr(self, name)
            if name in _SETTINGS and name not in reads:
                continue
            if value is not None or (name in reads and name not in ("body", "process")):
                shown.append(f"{name}={value!r}")
        return f"Fault({', '.join(shown)})"

    def _check_scope(self) -> None:
        """A scope no request has (a misspelt service or operation) would never fire: a
        test armed with it would pass without testing anything."""
        from ._services import ACCOUNT_SERVICE, SEND_SERVICE

        if self.service not in (None, "send", "account"):
            raise ValueError(f"service must be 'send', 'account' or None, got {self.service!r}")
        if self.operation is None:
            return
        of = {op.name: spec.name for spec in (SEND_SERVICE, ACCOUNT_SERVICE)
              for op in spec.operations}  # fmt: skip
        if self.operation not in of:
            close = difflib.get_close_matches(self.operation, list(of), n=1)
            meant = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"no operation {self.operation!r}{meant}; one of "
                             f"{', '.join(sorted(of))}")  # fmt: skip
        if self.service is not None and of[self.operation] != self.service:
            raise ValueError(f"{self.operation} is an operation of the {of[self.operation]} "
                             f"service, not of {self.service}: it would never fire")  # fmt: skip

    @property
    def processes(self) -> bool:
        """Whether the request is carried out (and recorded) before this fault shows."""
        if self.kind in ("drop-after", "slow"):
            return True
        if self.kind in _PROCESS_DEFAULT:
            return _PROCESS_DEFAULT[self.kind] if self.process is None else self.process
        return False


@dataclass
class _Active:
    fault: Fault
    remaining: int | None
    rng: random.Random = field(repr=False)


class FaultPlan:
    """The faults armed on one host, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[_Active] = []

    def add(self, fault: Fault) -> None:
        """Arm ``fault`` after those already armed."""
        with self._lock:
            self._active.append(_Active(fault, fault.times, random.Random(fault.seed or 0)))

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._active.clear()

    @property
    def armed(self) -> list[Fault]:
        """The faults still armed."""
        with self._lock:
            return [a.fault for a in self._active]

    def pick(self, service: str, operation: str) -> Fault | None:
        """The fault that fires for this request, if any (and count it)."""
        if not self._active:
            return None
        with self._lock:
            for active in self._active:
                f = active.fault
                if f.service is not None and f.service != service:
                    continue
                if f.operation is not None and f.operation != operation:
                    continue
                if f.probability is not None and active.rng.random() >= f.probability:
                    continue
                if active.remaining is not None:
                    active.remaining -= 1
                    if active.remaining <= 0:
                        self._active.remove(active)
                return f
        return None


class Hold:
    """Holds a host's next ``times`` admitted requests open until ``release()`` (for tests).

    A held request has passed authentication and holds its serial's in-flight slot (so
    -18 and -19 apply to the serial's other requests); once released it is answered as
    usual. Taking the host down lets held requests go too (their connections are cut).
    ``wait(n)`` blocks until ``n`` requests have been held: a test waits on that, never on
    a sleep. Build one with ``SandboxHost.hold()``.
    """

    def __init__(
        self,
        times: int = 1,
        *,
        service: Literal["send", "account"] | None = None,
        operation: str | None = None,
    ) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self.service = service
        self.operation = operation
        self._left = times
        self._held = 0
        self._cond = threading.Condition()
        self._released = threading.Event()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def held(self) -> int:
        """How many requests this hold has taken so far."""
        with self._cond:
            return self._held

    @property
    def done(self) -> bool:
        """Whether this hold will take no more requests (released, or ``times`` taken)."""
        with self._cond:
            return self._left <= 0 or self._released.is_set()

    def take(self, service: str, operation: str) -> bool:
        """Whether this request is to be held (and count it)."""
        if self.service not in (None, service) or self.operation not in (None, operation):
            return False
        with self._cond:
            if self._left <= 0 or self._released.is_set():
                return False
            self._left -= 1
            self._held += 1
            self._cond.notify_all()
            return True

    def keep(self, closing: threading.Event) -> None:
        """Block a taken request until ``release()`` or until the host goes (``closing``)."""
        while not self._released.wait(0.05) and not closing.is_set():
            pass

    def wait(self, n: int = 1, timeout: float | None = 10.0) -> bool:
        """Block until ``n`` requests have been held; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._held >= n, timeout)

    def release(self) -> None:
        """Let every held request go, and hold no more."""
        self._released.set()
