"""``python -m ecb_files_client`` runs ``ecb-files-submit``."""

from ecb_files_client._cli.main import main

raise SystemExit(main())
