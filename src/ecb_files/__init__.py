"""ecb-files: the service-partner file submission API."""

__version__ = "0.1.0"
