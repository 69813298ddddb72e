"""The ``ecb-files`` console command (``ecb_files.cli.main:main``); one module per group."""
