"""facho.ops.status."""
