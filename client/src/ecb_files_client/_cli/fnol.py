"""``ecb-files-submit fnol``: create a damage notification from a first notice of loss.

::

    ecb-files-submit fnol --payload fnol.json \\
        --attachment kitchen.jpg --damage-image --description "water on the floor" \\
        --attachment invoice.pdf

``--payload`` is a JSON file (``-``: stdin) holding the ``damageNotification`` object,
the tenant's FNoL data; the security token, alias and e-mail come from the settings as
for the other commands. ``--description``, ``--damage-image``, ``--content-type`` and
``--file-name`` describe the ``--attachment`` they follow, like ``curl -F``'s
per-file options, so each attachment can carry its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ecb_files_client._cli.settings import UsageError
from ecb_files_client._uploads import Upload

ATTACHMENTS = "attachments"

_DESCRIPTION = """\
Create a damage notification from a first notice of loss (FNoL). --payload is a JSON
file (- reads stdin) holding the damageNotification object, the insurance company's
FNoL data; the security token, alias and e-mail come from the settings as for the other
commands. Each --attachment adds a file; the --description, --damage-image,
--content-type and --file-name after it describe that file only. The new damage
notification's id is printed.
"""

_EXAMPLE = """\
example:
  ecb-files-submit fnol --payload fnol.json \\
      --attachment kitchen.jpg --damage-image --description "water on the floor" \\
      --attachment invoice.pdf
"""


class _Attachment(argparse.Action):
    """``--attachment PATH``: starts a new attachment."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        # A new list per parse: the default is None, never a shared list.
        attachments = list(getattr(namespace, ATTACHMENTS) or [])
        attachments.append({"path": values})
        setattr(namespace, ATTACHMENTS, attachments)


class _AttachmentDetail(argparse.Action):
    """An option that describes the ``--attachment`` before it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        attachments = getattr(namespace, ATTACHMENTS) or []
        if not attachments:
            parser.error(f"{option_string} describes an attachment: put it after --attachment PATH")
        last = attachments[-1]
        if self.dest in last:
            parser.error(f"{option_string} given twice for the attachment {last['path']}")
        last[self.dest] = True if self.nargs == 0 else values


def add_parser(
    commands: Any, parents: Sequence[argparse.ArgumentParser], epilog: str
) -> argparse.ArgumentParser:
    """The ``fnol`` subcommand and its options."""
    fnol: argparse.ArgumentParser = commands.add_parser(
        "fnol",
        parents=list(parents),
        help="create a damage notification from a first notice of loss (FNoL)",
        description=_DESCRIPTION,
        epilog=epilog + "\n" + _EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fnol.set_defaults(**{ATTACHMENTS: None})
    payload = fnol.add_argument_group("first notice of loss")
    payload.add_argument(
        "--payload",
        metavar="FILE",
        help="JSON file with the damageNotification object (- reads stdin); "
        "required unless --show-schema",
    )
    payload.add_argument(
        "--show-schema",
        action="store_true",
        help="print the tenant's FNoL schema (the one --payload must meet) and exit",
    )
    files = fnol.add_argument_group(
        "attachments", "each option below describes the --attachment it follows"
    )
    files.add_argument(
        "--attachment", action=_Attachment, metavar="PATH", help="a file to attach (repeatable)"
    )
    files.add_argument(
        "--description", action=_AttachmentDetail, help="its description (≤ 4000 characters)"
    )
    files.add_argument(
        "--damage-image", action=_AttachmentDetail, nargs=0, help="mark it a damage image"
    )
    files.add_argument(
        "--content-type", action=_AttachmentDetail, help="its content type (default: by extension)"
    )
    files.add_argument(
        "--file-name", action=_AttachmentDetail, help="the name to store (default: the path's)"
    )
    return fnol


def attachments(args: argparse.Namespace) -> list[Upload]:
    return [
        Upload(
            item["path"],
            file_name=item.get("file_name"),
            content_type=item.get("content_type"),
            description=item.get("description"),
            is_damage_image=bool(item.get("damage_image")),
        )
        for item in getattr(args, ATTACHMENTS) or []
    ]


def load_payload(where: str | None, stdin: TextIO = sys.stdin) -> dict[str, Any]:
    """The ``damageNotification`` object from a file or stdin; a usage error if unusable."""
    if not where:
        raise UsageError("--payload FILE is required (the damageNotification object as JSON)")
    try:
        text = stdin.read() if where == "-" else Path(where).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read --payload {where}: {error.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--payload {where} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise UsageError(f"--payload {where} must hold a JSON object (the damageNotification)")
    return document
