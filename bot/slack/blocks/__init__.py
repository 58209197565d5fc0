"""Pure Block Kit builders: data in, message dicts out. No I/O here."""
