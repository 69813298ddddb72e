"""Malware scanning (§12.1): the clamd adapter, the one place that talks to the scanner.

Like ``storage`` for the blob store: nothing above it sees a socket or clamd's words;
every failure of the scanner is a ``ScannerUnavailable``.
"""

from ecb_files.scanning.clamd import Clamd, ClamdAddress, ClamdScan, ClamdScanner

__all__ = ["Clamd", "ClamdAddress", "ClamdScan", "ClamdScanner"]
