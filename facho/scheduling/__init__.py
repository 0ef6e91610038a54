"""facho.scheduling."""
