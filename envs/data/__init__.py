"""Text data shipped with the environments (e.g. ``crafter_manual.md``)."""
