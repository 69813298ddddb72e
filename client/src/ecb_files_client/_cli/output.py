"""What ``ecb-files-submit`` prints: the outcome on stdout (lines, or one JSON document
with ``--json``), failures on stderr, and the plan of a ``--dry-run``."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from ecb_files_client._cli.exit_codes import exit_code_for
from ecb_files_client._cli.progress import human_bytes
from ecb_files_client._exceptions import ApiError, EcbClientError, LocalValidationError
from ecb_files_client._results import DamageNotificationResult, SubmitResult
from ecb_files_client._submission import Plan

PROG = "ecb-files-submit"


def fail(error: EcbClientError, as_json: bool) -> int:
    code = exit_code_for(error)
    if as_json:
        document: dict[str, Any] = {
            "success": False,
            "errorType": getattr(error, "error_type", type(error).__name__),
            "errorDescription": getattr(error, "description", error.message),
            "status": getattr(error, "status", None),
            "local": isinstance(error, LocalValidationError),
            "attempts": error.attempts,
            "requestId": error.request_id if isinstance(error, ApiError) else None,
            "exitCode": int(code),
        }
        print(json.dumps(document, ensure_ascii=False), file=sys.stdout)
    what = "refused before sending" if isinstance(error, LocalValidationError) else "failed"
    detail = f"{PROG}: {what}: {error}"
    if isinstance(error, ApiError) and error.request_id:
        detail += f" [request id {error.request_id}]"
    if error.attempts > 1:
        detail += f" (after {error.attempts} attempts)"
    print(detail, file=sys.stderr)
    return code


def show_result(result: SubmitResult, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False), file=out)
        return
    for stored in result.files:
        check = "sha256 ok" if stored.sha256_matches else "SHA-256 MISMATCH"
        print(
            f"stored {stored.file_name}  {human_bytes(stored.size)}  id={stored.id}  {check}",
            file=out,
        )
    how = f"attempt {result.attempts}" + (", replayed by the server" if result.replayed else "")
    if isinstance(result, DamageNotificationResult):
        count = f"{len(result.files)} attachment" + ("s" if len(result.files) != 1 else "")
        print(f"damage notification {result.id} created with {count} ({how})", file=out)
    else:
        print(f"{len(result.files)} file(s) stored ({how})", file=out)


def show_plan(plan: Plan, as_json: bool, out: TextIO) -> None:
    body_bytes = plan.body.content_length
    if as_json:
        document = {
            "dryRun": True,
            "url": plan.url,
            "bodyBytes": body_bytes,
            "idempotencyKey": plan.idempotency_key,
            "contentType": plan.body.content_type,
            "localChecks": plan.locally_checked,
            "files": [
                {"fileName": f.file_name, "contentType": f.content_type, "size": f.size}
                for f in plan.files
            ],
        }
        print(json.dumps(document, ensure_ascii=False), file=out)
        return
    body = "unknown size" if body_bytes is None else f"{body_bytes} bytes"
    form = plan.body.content_type.split(";")[0]
    print(f"dry run: would POST {len(plan.files)} file(s) to {plan.url} ({body}, {form})", file=out)
    for f in plan.files:
        size = "size unknown" if f.size is None else human_bytes(f.size)
        print(f"  [{f.index + 1}] {f.file_name}  {f.content_type}  {size}", file=out)
    checked = "passed" if plan.locally_checked else "skipped (--no-local-checks)"
    print(f"local checks {checked}; nothing was sent", file=out)
