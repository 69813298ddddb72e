"""Image work on stored files: thumbnails (§11.2). Pillow is imported here only."""
