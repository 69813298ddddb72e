"""uvicorn's httptools protocol, answering malformed HTTP in the JSON envelope (§3.3).

Bytes the HTTP parser cannot take as a request — a bad request line or header, a bad
chunk size, or what is left over when a ``Content-Length`` is shorter than the body that
follows it, parsed as a next request — are answered by uvicorn itself, before any
application code, with a plain-text ``400 Invalid HTTP request received.``. Here the same
answer is the envelope: 400 InvalidRequest with an ``X-Request-Id``, ``Connection:
close``, and the connection then closed (docs/behaviour.md §9 "Malformed requests").

uvicorn writes that 400 the moment the parser fails, even while an earlier request on the
connection is still being served; the connection closes, and the earlier request's
answer is lost although the request was whole and may have been stored. Here the
earlier answers go first, then the 400, then the connection closes. When the bytes that
broke are the body of the request being served, that request is answered with the 400
(it never reaches the service whole, so nothing of it is stored), unless its answer has
begun; then the connection is only closed.
"""

from __future__ import annotations

import logging
import uuid

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ecb_files.errors import InvalidRequest

log = logging.getLogger("ecb_files.api")

DESCRIPTION = (
    "malformed HTTP request: its request line, headers or body framing cannot be parsed; "
    "the connection is closed"
)


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    _framing_error: str | None = None  # an answer owed after the answers before it

    def data_received(self, data: bytes) -> None:
        if self._framing_error is not None:
            return  # the parser has failed: nothing after the failure is read
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        broken_body = cycle is not None and not cycle.response_complete and cycle.more_body
        if broken_body and cycle is not None:
            queued = [entry for entry in self.pipeline if entry[0] is not cycle]
            if len(queued) == len(self.pipeline):  # being served now
                if cycle.response_started:
                    self.transport.close()  # its answer is under way: it cannot be a 400
                else:
                    self._answer(msg)
                return
            self.pipeline.clear()
            self.pipeline.extend(queued)  # never served: its body never came whole
        owed = cycle is not None and not cycle.response_complete and not broken_body
        if owed or self.pipeline:
            self._framing_error = msg
            self.flow.pause_reading()
            return
        self._answer(msg)

    def on_response_complete(self) -> None:
        msg = self._framing_error
        if msg is None:
            super().on_response_complete()
            return
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._answer(msg)

    def _answer(self, msg: str) -> None:
        request_id = uuid.uuid4().hex
        log.warning("%s (request id %s)", msg, request_id)
        body = InvalidRequest(DESCRIPTION, reason="malformed_http").envelope()
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        lines += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        lines += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            body,
        ]
        self.transport.write(b"".join(lines))
        self.transport.close()
