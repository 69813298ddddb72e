"""``ecb-files-submit case|dn --id … FILE…`` and ``ecb-files-submit fnol --payload …``:
submit files, or create a damage notification, from the command line.

The result goes to stdout (a line per stored file, or one JSON document with
``--json``); progress and errors go to stderr. The exit status says what happened
(see ``exit_codes``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ecb_files_client._cli import fnol
from ecb_files_client._cli.exit_codes import TABLE, ExitCode
from ecb_files_client._cli.output import PROG, fail, show_plan, show_result
from ecb_files_client._cli.progress import progress_for
from ecb_files_client._cli.settings import ENV_PREFIX, SETTINGS, Settings, UsageError, resolve
from ecb_files_client._client import SubmitClient
from ecb_files_client._exceptions import EcbClientError
from ecb_files_client._results import SubmitResult
from ecb_files_client._retry import RetryPolicy
from ecb_files_client._submission import (
    TRANSFERS,
    Endpoint,
    NewDamageNotification,
    Submission,
)
from ecb_files_client._uploads import Upload
from ecb_files_client._version import __version__


@dataclass(frozen=True)
class SchemaRequest:
    """``fnol --show-schema``: the tenant's FNoL schema, nothing sent."""

    alias: str


Request = Submission | NewDamageNotification | SchemaRequest

_DESCRIPTION = """\
Submit files to a case (submitForCase) or a damage notification
(submitForDamageNotification) of the ECB file submission API, or create a damage
notification from a first notice of loss (fnol).

Settings come from flags, else ECB_SUBMIT_<NAME> environment variables (ECB_SUBMIT_URL,
ECB_SUBMIT_CLIENT_ID, ECB_SUBMIT_KEY, ECB_SUBMIT_CERT, ECB_SUBMIT_PKCS12,
ECB_SUBMIT_KEY_PASSWORD, ECB_SUBMIT_CLIENT_SECRET, ECB_SUBMIT_SECURITY_TOKEN,
ECB_SUBMIT_ALIAS, ECB_SUBMIT_EMAIL, …), else the TOML config file (--config,
$ECB_SUBMIT_CONFIG, or ~/.config/ecb-files/submit.toml) with keys named like the flags
(client_id = "…"). Prefer the environment or the config file for secrets.
"""

_EXAMPLES = """\
examples:
  ecb-files-submit case --id 6f1c…-…  --alias company --email me@example.com photo.jpg
  ecb-files-submit dn --id 0a2b…-…  --damage-image --description "front door" *.jpg
  ecb-files-submit case --id … --dry-run --json report.pdf
  ecb-files-submit case --id … --transfer json report.pdf
  ecb-files-submit fnol --payload fnol.json --attachment dent.jpg --damage-image \\
      --description "rear door" --attachment invoice.pdf
"""


def _settings_parent() -> argparse.ArgumentParser:
    """Who is sending, and to which server: shared by every command."""
    common = argparse.ArgumentParser(add_help=False)
    who = common.add_argument_group("who")
    who.add_argument("--alias", help="the insurance company alias (e.g. company)")
    who.add_argument("--email", help="the uploading employee's e-mail address")
    who.add_argument("--security-token", help="the service partner's security token GUID")

    server = common.add_argument_group("server and credentials")
    server.add_argument("--url", help="the service's base URL, e.g. https://files.example.com")
    server.add_argument("--client-id", help="the OAuth client id")
    server.add_argument("--key", help="PEM private key (private_key_jwt); may hold the cert too")
    server.add_argument("--cert", help="PEM certificate registered for the client")
    server.add_argument("--pkcs12", help="PKCS#12 bundle (.p12/.pfx) with key and certificate")
    server.add_argument("--key-password", help="password of the key or bundle")
    server.add_argument("--client-secret", help="client secret (instead of a key)")
    server.add_argument("--issuer", help="token issuer for discovery (default: --url)")
    server.add_argument("--token-endpoint", help="token endpoint URL (skips discovery)")
    server.add_argument("--scope", help="scopes to request (default: the write scope)")
    server.add_argument("--config", type=Path, help="TOML config file")

    behaviour = common.add_argument_group("behaviour")
    behaviour.add_argument(
        "--idempotency-key", help="key for safe retries (default: a new one per run)"
    )
    behaviour.add_argument("--max-attempts", type=int, default=5, help="attempts (default 5)")
    behaviour.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for an answer (default 300)"
    )
    behaviour.add_argument(
        "--no-local-checks", action="store_true", help="send even what the server would refuse"
    )
    behaviour.add_argument(
        "--dry-run", action="store_true", help="check and show what would be sent; send nothing"
    )
    behaviour.add_argument("--json", action="store_true", help="print the outcome as JSON")
    behaviour.add_argument(
        "--progress",
        choices=("auto", "bar", "plain", "none"),
        default="auto",
        help="bars on a terminal, lines otherwise (auto); or force one",
    )
    return common


def _submit_parent() -> argparse.ArgumentParser:
    """The target and the files of ``case`` and ``dn``."""
    common = argparse.ArgumentParser(add_help=False)
    target = common.add_argument_group("target")
    target.add_argument("--id", required=True, help="the case or damage notification GUID")
    target.add_argument("--timestamp", help="yyyy-MM-dd or ISO 8601 date-time to record")

    files = common.add_argument_group("files")
    files.add_argument("files", nargs="+", metavar="FILE", help="files to submit")
    files.add_argument("--description", help="description for every file (≤ 4000 characters)")
    files.add_argument("--content-type", help="content type for every file (default: by extension)")
    files.add_argument(
        "--transfer",
        choices=TRANSFERS,
        default="auto",
        help="raw bytes in multipart/form-data when the server takes it, else base64 JSON "
        "(auto); or force one",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    settings, submit = _settings_parent(), _submit_parent()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=TABLE + "\n" + _EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{case,dn,fnol}")
    case = commands.add_parser(
        "case",
        parents=[submit, settings],
        help="submit to a case (submitForCase)",
        epilog=TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    case.add_argument(
        "--restricted", action="store_true", help="mark the files restricted (isRestricted)"
    )
    dn = commands.add_parser(
        "dn",
        parents=[submit, settings],
        help="submit to a damage notification (submitForDamageNotification)",
        epilog=TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dn.add_argument(
        "--damage-image", action="store_true", help="mark the files damage images (isDamageImage)"
    )
    fnol.add_parser(commands, [settings], TABLE)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    try:
        flags = {name: getattr(args, name, None) for name in SETTINGS}
        settings = resolve(flags, os.environ, args.config)
        credentials = settings.credentials()
        url = settings.require("url")
        request = _request(args, settings)
        if args.max_attempts < 1:
            raise UsageError("--max-attempts must be at least 1")
        client = SubmitClient(
            url,
            credentials,
            retry=RetryPolicy(max_attempts=args.max_attempts),
            validate_locally=not args.no_local_checks,
            timeout=args.timeout,
        )
    except (UsageError, ValueError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return ExitCode.USAGE
    with client:
        try:
            return _perform(client, request, args)
        except EcbClientError as error:
            return fail(error, args.json)
        except ValueError as error:  # an argument the SDK refuses (e.g. a payload not JSON)
            print(f"{PROG}: {error}", file=sys.stderr)
            return ExitCode.USAGE


def _request(args: argparse.Namespace, settings: Settings) -> Request:
    """What the command asks of the server, from its arguments and settings."""
    if args.command == "fnol" and args.show_schema:
        return SchemaRequest(settings.require("alias"))
    progress = None if args.dry_run else progress_for(args.progress, sys.stderr)
    if args.command == "fnol":
        return NewDamageNotification(
            damage_notification=fnol.load_payload(args.payload),
            insurance_company_alias=settings.require("alias"),
            user_email=settings.require("email"),
            attachments=fnol.attachments(args),
            security_token=settings.require("security_token"),
            idempotency_key=args.idempotency_key,
            progress=progress,
        )
    return Submission(
        endpoint=Endpoint.CASE if args.command == "case" else Endpoint.DAMAGE_NOTIFICATION,
        target_id=args.id,
        insurance_company_alias=settings.require("alias"),
        user_email=settings.require("email"),
        files=[_upload(args, path) for path in args.files],
        security_token=settings.require("security_token"),
        timestamp=args.timestamp,
        idempotency_key=args.idempotency_key,
        progress=progress,
        transfer=args.transfer,
    )


def _perform(client: SubmitClient, request: Request, args: argparse.Namespace) -> int:
    """Send ``request`` (or show its plan), print the outcome; the exit status."""
    result: SubmitResult
    if isinstance(request, SchemaRequest):
        schema = client.damage_notification_schema(request.alias)
        print(json.dumps(schema, indent=2, ensure_ascii=False))
        return ExitCode.OK
    if isinstance(request, NewDamageNotification):
        if args.dry_run:
            show_plan(client._plan_damage_notification(request), args.json, sys.stdout)
            return ExitCode.OK
        result = client._create_damage_notification(request)
    elif args.dry_run:
        show_plan(client._plan(request), args.json, sys.stdout)
        return ExitCode.OK
    else:
        result = client._submit(request)
    show_result(result, args.json, sys.stdout)
    return ExitCode.OK if result.all_sha256_match else ExitCode.CHECKSUM_MISMATCH


def _upload(args: argparse.Namespace, path: str) -> Upload:
    return Upload(
        path,
        content_type=args.content_type,
        description=args.description,
        is_restricted=getattr(args, "restricted", False),
        is_damage_image=getattr(args, "damage_image", False),
    )


__all__ = ["ENV_PREFIX", "build_parser", "main"]
