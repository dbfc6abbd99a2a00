"""change_password (UDPPwd), with both clients: the new password works, the old does not,
and neither shows in what the client says."""

from __future__ import annotations

import pytest

import mandao
from mandao.testing import SandboxGateway
from tests.conftest import PASSWORD, SN, MakeClient


def test_the_client_uses_the_new_password(make_client: MakeClient, gateway: SandboxGateway) -> None:
    client = make_client()
    client.change_password("n3w-Secret")
    assert client.balance() >= 0  # this client signs with the new one now
    assert "n3w-Secret" not in repr(client)
    with pytest.raises(mandao.AuthenticationError):
        make_client(SN, PASSWORD).balance()
    assert make_client(SN, "n3w-Secret").balance() >= 0


@pytest.mark.parametrize("bad", ["", " padded ", "tab\t", 123])
def test_a_password_that_cannot_be_typed_again_is_refused(
    make_client: MakeClient, bad: object
) -> None:
    with pytest.raises(mandao.ValidationError, match="new: expected a password"):
        make_client().change_password(bad)  # type: ignore[arg-type]
