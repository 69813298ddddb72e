"""Access tokens of an external issuer named in ECB_FILES_TRUSTED_ISSUERS (§2, §8)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.functional.conftest import Api, assert_error, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

EXTERNAL = "https://idp.example.test"


class JwksServer:
    """A real HTTP server publishing one RSA key, as an external IdP would."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "idp-1"}, private=True)
        document = json.dumps({"keys": [self.key.as_dict(private=False)]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": EXTERNAL,
            "aud": "ecb-files",
            "client_id": "secret-client",
            "sub": "secret-client",
            "scope": "platform-service-provider:write",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **overrides,
        }
        header = {"alg": "RS256", "kid": overrides.pop("kid", "idp-1"), "typ": "JWT"}
        return jwt.encode(header, claims, self.key, algorithms=["RS256"])

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def idp() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def federated(
    tmp_path_factory: pytest.TempPathFactory, world: World, idp: JwksServer
) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("federated")
    server = ServerProcess(tmp / "data", {"ECB_FILES_TRUSTED_ISSUERS": f"{EXTERNAL}={idp.url}"})
    server.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    server.start()
    yield server
    server.stop()


def test_token_of_a_trusted_issuer_is_accepted(
    federated: ServerProcess, idp: JwksServer, world: World
) -> None:
    """§8: a token signed by a trusted issuer's JWKS key, naming a registered client."""
    response = Api(federated, idp.token()).case(submission(world, world.open_case, [file_entry()]))
    assert response.status_code == 200, response.text


def test_trusted_issuer_token_for_another_audience_is_refused(
    federated: ServerProcess, idp: JwksServer, world: World
) -> None:
    """§2: the audience must be this service's, whoever the issuer."""
    response = Api(federated, idp.token(aud="someone-else")).case(
        submission(world, world.open_case, [file_entry()])
    )
    assert_error(response, 401, "Unauthorized")


def test_token_of_an_untrusted_issuer_is_refused(
    federated: ServerProcess, idp: JwksServer, world: World
) -> None:
    """§2: a token of an issuer that is neither this service nor trusted → 401."""
    response = Api(federated, idp.token(iss="https://stranger.example")).case(
        submission(world, world.open_case, [file_entry()])
    )
    assert_error(response, 401, "Unauthorized")
