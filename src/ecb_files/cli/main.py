"""The ``ecb-files`` console command: one group, one thin module per command group."""

from __future__ import annotations

import click

from ecb_files.cli._common import operator_errors
from ecb_files.cli.audit import audit
from ecb_files.cli.case import case
from ecb_files.cli.db import db
from ecb_files.cli.demo import demo
from ecb_files.cli.dn import dn
from ecb_files.cli.files import files
from ecb_files.cli.gc import gc
from ecb_files.cli.keys import keys
from ecb_files.cli.load import load
from ecb_files.cli.serve import serve
from ecb_files.cli.tenant import tenant
from ecb_files.cli.user import user


class _Commands(click.Group):
    """The command group whose every command's expected failures end as their exit code
    (``_common.EXIT_CODES``): one place for the whole command line."""

    def invoke(self, ctx: click.Context) -> object:
        with operator_errors():
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Operate the ECB file submission service.

    Configuration comes from ECB_FILES_* environment variables (ECB_FILES_DATA_DIR,
    ECB_FILES_DATABASE_URL, ECB_FILES_STORAGE_URL, …); with none set, everything lives
    in ./data. Every command migrates the database first, so it works on a fresh data
    dir.

    \b
    Exit codes:
      0  success
      1  the operation failed: not found, conflict, database or storage unavailable
      2  bad usage or bad input: unknown option, malformed GUID, invalid fixture

    Example: ecb-files load examples/demo-fixtures.json
    """


for _command in (serve, demo, db, load, tenant, user, case, dn, files, audit, gc, keys):
    main.add_command(_command)


if __name__ == "__main__":
    main(prog_name="ecb-files")
