"""``ecb-files-submit``: the command line over :class:`~ecb_files_client.SubmitClient`."""
