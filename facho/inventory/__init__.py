"""facho.inventory.writes."""
