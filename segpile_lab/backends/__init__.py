"""backends subpackage (see ARCHITECTURE.md)."""
