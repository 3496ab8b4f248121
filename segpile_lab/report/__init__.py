"""report subpackage (see ARCHITECTURE.md)."""
