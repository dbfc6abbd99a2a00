"""``mandao wsdl show|check|refresh``: the cached WSDLs, and drift against a live one."""

from __future__ import annotations

import datetime
import urllib.error
import urllib.request
from typing import Any

import click

from .._errors import GatewayUnreachable, MandaoError, ValidationError
from .._wsdl import ACCOUNT, SEND, Service, user_wsdl_dir
from ._common import EXIT_DRIFT, Output, common_options
from ._groups import Commands

__all__ = ["wsdl"]

_SERVICES = {"send": SEND, "account": ACCOUNT}


@click.group(cls=Commands)
def wsdl() -> None:
    """The cached WSDLs: show them, check a live one against them, refresh them."""


@wsdl.command("show")
@click.option("--service", type=click.Choice(sorted(_SERVICES)), help="Only this service.")
@common_options
def show(service: str | None, out: Output) -> None:
    """List each service's operations and their parameters, from the WSDL in use."""
    from .._wsdl_diff import summarize

    data: dict[str, Any] = {}
    for name, svc in _SERVICES.items():
        if service and name != service:
            continue
        summary = summarize(svc.path.read_bytes())
        data[name] = {
            "file": str(svc.path),
            "user_copy": svc.path != svc.packaged_path,
            "namespace": summary.namespace,
            "operations": {k: list(v) for k, v in summary.operation_parameters().items()},
            "bindings": sorted(summary.bindings),
        }

    def text() -> None:
        for name, info in data.items():
            origin = "user copy" if info["user_copy"] else "packaged"
            click.echo(f"{name} service  {info['namespace']}  ({origin}: {info['file']})")
            for op, params in info["operations"].items():
                click.echo(f"  {op}({', '.join(params)})")
            click.echo(f"  bindings: {', '.join(info['bindings'])}")

    out.result(data, text)


def _fetch(url: str, timeout: float) -> tuple[str, bytes]:
    """``url``'s WSDL: a host that cannot be reached is GatewayUnreachable (exit 11), one
    that answers with an error status a MandaoError (exit 1), as the exit-code table says."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValidationError(f"expected an http(s) URL, got {url!r}", argument="URL")
    if "?" not in url:
        url += "?wsdl"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - http(s) only
            return url, bytes(reply.read())
    except urllib.error.HTTPError as exc:
        raise MandaoError(f"cannot fetch {url}: the server answered HTTP {exc.code}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GatewayUnreachable(
            f"cannot fetch {url}: {reason}", causes=((url, str(reason)),)
        ) from None


def _check(url: str, service: str | None, timeout: float) -> dict[str, Any]:
    from .._wsdl_diff import compare, summarize

    url, body = _fetch(url, timeout)
    try:
        live = summarize(body)
    except ValueError as exc:
        raise MandaoError(f"{url}: {exc}") from None
    svc: Service
    if service:
        svc = _SERVICES[service]
    else:
        by_ns = [s for s in _SERVICES.values() if s.namespace == live.namespace]
        svc = by_ns[0] if by_ns else (ACCOUNT if ":8060" in url else SEND)
    cached = summarize(svc.path.read_bytes())
    diffs = compare(cached, live)
    return {
        "url": url,
        "service": svc.name,
        "cached": str(svc.path),
        "breaking": [str(d) for d in diffs if d.severity == "breaking"],
        "info": [str(d) for d in diffs if d.severity == "info"],
        "_body": body,
        "_svc": svc,
    }


def _report(out: Output, report: dict[str, Any], extra: str = "") -> None:
    data = {k: v for k, v in report.items() if not k.startswith("_")}

    def text() -> None:
        state = "DRIFT" if report["breaking"] else "ok"
        click.echo(f"{state}: {report['url']} vs {report['cached']} ({report['service']})")
        for line in report["breaking"] + report["info"]:
            click.echo(f"  {line}")
        if extra:
            click.echo(extra)

    out.result(data, text)


_URL_OPTIONS = [
    click.option(
        "--service",
        type=click.Choice(sorted(_SERVICES)),
        help="Which cached WSDL to compare with (default: by namespace).",
    ),
    click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds."),
]


@wsdl.command("check")
@click.argument("url")
@_URL_OPTIONS[0]
@_URL_OPTIONS[1]
@common_options
def check(url: str, service: str | None, timeout: float, out: Output) -> None:
    """Fetch URL's ?wsdl and compare it with the cached one; exit 20 on drift that matters.

    Compared: namespaces, operations, parameters, messages, bindings (soapAction, HTTP
    locations). Additions and changed addresses are reported but do not fail. A URL that
    cannot be reached exits 11; under --json, errors are JSON too.
    """
    report = _check(url, service, timeout)
    _report(out, report)
    if report["breaking"]:
        raise SystemExit(EXIT_DRIFT.code)


@wsdl.command("refresh")
@click.argument("url", required=False)
@click.option("--packaged", is_flag=True, help="Remove the user copies; use the packaged WSDLs.")
@_URL_OPTIONS[0]
@_URL_OPTIONS[1]
@common_options
def refresh(
    url: str | None, packaged: bool, service: str | None, timeout: float, out: Output
) -> None:
    """Store a checked copy of URL's WSDL in the user cache; mandao uses it from then on.

    A copy that differs in a way that matters is not stored (exit 20). --packaged goes
    back to the WSDLs shipped with mandao.
    """
    folder = user_wsdl_dir()
    if packaged:
        removed = []
        for svc in _SERVICES.values():
            if service and svc.name != service:
                continue
            for path in (folder / svc.filename, folder / (svc.filename + ".source")):
                if path.exists():
                    path.unlink()
                    removed.append(str(path))
        out.result({"removed": removed}, f"using the packaged WSDLs ({len(removed)} removed)")
        return
    if not url:
        raise ValidationError("give a URL, or --packaged", argument="URL")
    report = _check(url, service, timeout)
    if report["breaking"]:
        _report(out, report, "not stored: the live WSDL differs in a way that matters")
        raise SystemExit(EXIT_DRIFT.code)
    target_service: Service = report["_svc"]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / target_service.filename
    target.write_bytes(report["_body"])
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    (folder / (target_service.filename + ".source")).write_text(f"{report['url']}\n{stamp}\n")
    report["stored"] = str(target)
    _report(out, report, f"stored: {target}")
