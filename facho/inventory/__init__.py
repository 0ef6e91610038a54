"""What Facho knows about ONUs and how it learns it: discovery, get, index decoding, value
rules, vendor data and the set-based inventory writes."""
