"""One-number send round trip to a sandbox in another process.

mandao's `client.send` (journal on, as by default) against zeep's raw
`service.mdsmssend` (same WSDL, a plain `requests.Session` under both) and against a
hand-built SOAP 1.1 POST with `requests.Session` (the floor). Run:

    python benchmarks/roundtrip.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import quote

import requests
import zeep

import mandao
from _common import PASSWORD, SN, interleaved, report, sandbox_process
from mandao._credentials import md5_form

WSDL = Path(__file__).resolve().parents[1] / "wsdl_cache" / "send-8061.wsdl"
TEXT = "您的验证码是 123456，5 分钟内有效【示例】"
MOBILE = "13800138000"

ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soap:Body><mdsmssend xmlns="http://entinfo.cn/">'
    "<sn>{sn}</sn><pwd>{pwd}</pwd><mobile>{mobile}</mobile><content>{content}</content>"
    "<ext></ext><stime></stime><rrid></rrid><msgfmt></msgfmt>"
    "</mdsmssend></soap:Body></soap:Envelope>"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    pwd = md5_form(SN, PASSWORD)
    encoded = quote(TEXT, safe="")
    with sandbox_process() as (hosts, account_hosts), tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        # The default client keeps a send journal; this one keeps it in a scratch folder.
        client = mandao.Client(
            SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=scratch / "j.sqlite3"
        )
        unjournaled = mandao.Client(
            SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=None
        )

        raw = zeep.Client(str(WSDL), transport=zeep.Transport(operation_timeout=(5, 30)))
        proxy = raw.create_service("{http://entinfo.cn/}WebServiceSoap", hosts[0])

        session = requests.Session()
        body = ENVELOPE.format(sn=SN, pwd=pwd, mobile=MOBILE, content=encoded).encode()
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://entinfo.cn/mdsmssend"',
        }

        def ours() -> None:
            client.send(MOBILE, TEXT)

        def ours_off() -> None:
            unjournaled.send(MOBILE, TEXT)

        def zeep_raw() -> None:
            result = proxy.mdsmssend(
                sn=SN, pwd=pwd, mobile=MOBILE, content=encoded, ext="", stime="", rrid="", msgfmt=""
            )
            assert not result.startswith("-"), result

        def by_hand() -> None:
            reply = session.post(hosts[0], data=body, headers=headers, timeout=(5, 30))
            assert reply.status_code == 200, reply.text

        for warm in (ours, ours_off, zeep_raw, by_hand):  # connections open, caches warm
            for _ in range(20):
                warm()
        medians = interleaved(
            {
                "hand-built requests POST": by_hand,
                "zeep service.mdsmssend": zeep_raw,
                "mandao, journal off": ours_off,
                "mandao client.send": ours,
            },
            args.rounds,
        )
    ok = report(
        f"one-number mdsmssend over SOAP 1.1, sandbox in another process (median of {args.rounds})",
        medians,
        base="zeep service.mdsmssend",
        targets={"mandao client.send": 1.25},
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
