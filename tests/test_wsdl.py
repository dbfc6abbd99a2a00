"""The cached WSDLs: ASMX shape, agreement with the operations table, offline lazy parsing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from lxml import etree

from mandao._operations import BINDINGS, OPERATIONS
from mandao._wsdl import ACCOUNT, SEND, Service, wsdl_dir

NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "s": "http://www.w3.org/2001/XMLSchema",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
    "http": "http://schemas.xmlsoap.org/wsdl/http/",
    "mime": "http://schemas.xmlsoap.org/wsdl/mime/",
}
SERVICES = [SEND, ACCOUNT]
# The parameters that are .NET value types: required (minOccurs 1) in the schema, and
# written as s:string parts in the HTTP messages, as every ASMX WSDL has them.
TYPED = {("mo2", "maxID"): "s:int", ("report", "maxid"): "s:long", ("report2", "maxid"): "s:long"}
# Operations whose result is not a string: RECSMS_UTF8 returns MOBody[].
RESULTS = {"RECSMS_UTF8": "ArrayOfMOBody"}


def _tree(service: Service) -> etree._Element:
    return etree.parse(str(service.path)).getroot()


def _ops(service: Service) -> list[str]:
    return [name for name, op in OPERATIONS.items() if op.service == service]


def test_wsdl_folder_holds_exactly_the_two_files() -> None:
    """The cache folder holds the send (8061) and account (8060) WSDLs and a README."""
    names = sorted(p.name for p in wsdl_dir().iterdir())
    assert {"send-8061.wsdl", "account-8060.wsdl"} <= set(names)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_schema_is_asmx_shaped(service: Service) -> None:
    """Each operation's element lists its parameters in table order: optional strings, and
    required s:int / s:long for the value types; each result is its declared type."""
    root = _tree(service)
    assert root.get("targetNamespace") == service.namespace
    schema = root.find("wsdl:types/s:schema", NS)
    assert schema is not None
    assert schema.get("elementFormDefault") == "qualified"
    for name in _ops(service):
        request = schema.find(f"s:element[@name='{name}']", NS)
        assert request is not None, name
        params = request.findall("s:complexType/s:sequence/s:element", NS)
        assert [p.get("name") for p in params] == list(OPERATIONS[name].params)
        for p in params:
            typed = TYPED.get((name, p.get("name")))
            expected = ("1", "1", typed) if typed else ("0", "1", "s:string")
            assert (p.get("minOccurs"), p.get("maxOccurs"), p.get("type")) == expected
        result = schema.find(
            f"s:element[@name='{name}Response']/s:complexType/s:sequence/s:element", NS
        )
        assert result is not None
        kind = f"tns:{RESULTS[name]}" if name in RESULTS else "s:string"
        assert (result.get("name"), result.get("type")) == (f"{name}Result", kind)
    assert schema.find("s:element[@name='string']", NS) is not None


def test_mobody_is_the_live_array_of_six_strings() -> None:
    """ArrayOfMOBody holds nillable MOBody elements of six optional strings, in live order."""
    schema = _tree(ACCOUNT).find("wsdl:types/s:schema", NS)
    assert schema is not None
    items = schema.findall("s:complexType[@name='ArrayOfMOBody']/s:sequence/s:element", NS)
    assert [
        (i.get("name"), i.get("type"), i.get("nillable"), i.get("maxOccurs")) for i in items
    ] == [("MOBody", "tns:MOBody", "true", "unbounded")]
    fields = schema.findall("s:complexType[@name='MOBody']/s:sequence/s:element", NS)
    assert [(f.get("name"), f.get("type"), f.get("minOccurs")) for f in fields] == [
        (name, "s:string", "0")
        for name in ("total_num", "this_num", "recvtel", "sender", "content", "recdate")
    ]
    top = schema.find("s:element[@name='ArrayOfMOBody']", NS)
    assert top is not None
    assert (top.get("type"), top.get("nillable")) == ("tns:ArrayOfMOBody", "true")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_messages_parts_and_bindings_follow_asmx_naming(service: Service) -> None:
    """Messages, parts, portTypes, bindings, soapAction and HTTP locations use ASMX names."""
    root = _tree(service)
    messages = {m.get("name"): m for m in root.findall("wsdl:message", NS)}
    for name in _ops(service):
        for suffix in ("SoapIn", "SoapOut"):
            parts = messages[name + suffix].findall("wsdl:part", NS)
            assert [p.get("name") for p in parts] == ["parameters"]
        for kind in ("HttpGet", "HttpPost"):
            parts = messages[f"{name}{kind}In"].findall("wsdl:part", NS)
            assert [p.get("name") for p in parts] == list(OPERATIONS[name].params)
            assert {p.get("type") for p in parts} == {"s:string"}
            out = messages[f"{name}{kind}Out"].findall("wsdl:part", NS)
            body = f"tns:{RESULTS.get(name, 'string')}"
            assert [(p.get("name"), p.get("element")) for p in out] == [("Body", body)]
    bindings = {b.get("name"): b for b in root.findall("wsdl:binding", NS)}
    assert set(bindings) == set(BINDINGS.values())
    for binding in bindings.values():
        names = [op.get("name") for op in binding.findall("wsdl:operation", NS)]
        assert names == _ops(service), binding.get("name")
    for binding_name, prefix in (("WebServiceSoap", "soap"), ("WebServiceSoap12", "soap12")):
        for op in bindings[binding_name].findall("wsdl:operation", NS):
            action = op.find(f"{prefix}:operation", NS)
            assert action is not None
            assert action.get("soapAction") == service.namespace + op.get("name")
    for binding_name, verb in (("WebServiceHttpGet", "GET"), ("WebServiceHttpPost", "POST")):
        binding = bindings[binding_name]
        assert binding.find("http:binding", NS).get("verb") == verb
        for op in binding.findall("wsdl:operation", NS):
            assert op.find("http:operation", NS).get("location") == "/" + op.get("name")
            assert op.find("wsdl:output/mime:mimeXml", NS).get("part") == "Body"
    ports = root.findall("wsdl:service[@name='WebService']/wsdl:port", NS)
    assert [p.get("name") for p in ports] == [p.get("binding")[4:] for p in ports]
    assert {p.get("name") for p in ports} == set(BINDINGS.values())


def test_operations_read_by_zeep_match_the_table() -> None:
    """What zeep reads from both WSDLs is exactly the operations table, in order."""
    from mandao._transports.wsdl import operation_parameters

    for service in SERVICES:
        assert operation_parameters(service) == {
            name: OPERATIONS[name].params for name in _ops(service)
        }


def test_parsing_needs_no_network_and_is_lazy_and_once() -> None:
    """With outbound sockets blocked, a Client parses each WSDL once, the account one lazily."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network blocked by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        import zeep.wsdl
        parsed = []
        original = zeep.wsdl.Document.__init__
        def counting(self, location, *args, **kwargs):
            parsed.append(str(location).rsplit("/", 1)[-1])
            original(self, location, *args, **kwargs)
        zeep.wsdl.Document.__init__ = counting
        import mandao
        from mandao._wsdl import ACCOUNT, SEND
        client = mandao.Client("SDK-TST-010-00001", "secret")
        client._wsdl().client(SEND)
        client.service.proxy
        assert parsed == ["send-8061.wsdl"], parsed
        mandao.Client("SDK-TST-010-00002", "secret")._wsdl().client(SEND)
        client.account_service.proxy
        client._wsdl().client(ACCOUNT)
        assert parsed == ["send-8061.wsdl", "account-8060.wsdl"], parsed
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_socket_block_in_parse_test_really_blocks() -> None:
    """The blocking trick used above does stop an outbound connection (the check can fail)."""
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise OSError('blocked')\n"
        "socket.socket.connect = refuse\n"
        "s = socket.socket()\n"
        "try:\n    s.connect(('127.0.0.1', 9))\nexcept OSError as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == "blocked"
