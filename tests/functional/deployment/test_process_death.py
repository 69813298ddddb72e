"""A process that dies mid-request frees its Idempotency-Key within the lease (§3.4)."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

from tests.functional.conftest import PHOTO, Api, assert_error, file_entry, secret_token, submission
from tests.functional.deployment.test_dependencies import raw_head
from tests.functional.server import ServerProcess
from tests.functional.world import World


def test_key_of_a_killed_process_is_free_again_after_the_lease(
    tmp_path: Path, world: World
) -> None:
    """§3.4: in flight only while its process lives; then a retry is served as new."""
    lease = {"ECB_FILES_IDEMPOTENCY_LEASE": "3"}
    doomed = ServerProcess(tmp_path / "data", lease)
    doomed.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    doomed.start()
    survivor = ServerProcess(
        tmp_path / "data",
        {**lease, "ECB_FILES_PUBLIC_URL": doomed.url},
        deployment=doomed.deployment,
    )
    survivor.start()
    try:
        token = secret_token(doomed, "secret-client", world.secret)
        body = submission(world, world.open_case, [file_entry("dies.jpg", PHOTO + b"d" * 10_000)])
        raw = json.dumps(body).encode()
        key = {"Idempotency-Key": f"killed-{time.time_ns()}"}
        with socket.create_connection(("127.0.0.1", doomed.port), timeout=10) as sock:
            head = raw_head(doomed, token, len(raw)).replace(
                b"\r\n\r\n", f"\r\nIdempotency-Key: {key['Idempotency-Key']}\r\n\r\n".encode()
            )
            sock.sendall(head + raw[:100])
            time.sleep(0.5)
            assert doomed.process is not None
            doomed.process.send_signal(signal.SIGKILL)
            doomed.process.wait(timeout=10)
        api = Api(survivor, token)
        assert_error(api.case(body, headers=key), 409, "RequestInProgress")
        time.sleep(3.5)
        retried = api.case(body, headers=key)
        assert retried.status_code == 200, retried.text
        assert "idempotent-replayed" not in retried.headers
        names = [f["fileName"] for f in api.files(case=world.open_case)]
        assert names.count("dies.jpg") == 1
    finally:
        survivor.stop()
        doomed.stop()
