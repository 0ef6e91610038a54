"""facho.executions.transitions."""
