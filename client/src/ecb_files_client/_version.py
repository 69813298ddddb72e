"""The distribution's version, and how requests name the client."""

from __future__ import annotations

__version__ = "0.1.0"
USER_AGENT = f"ecb-files-client/{__version__}"
