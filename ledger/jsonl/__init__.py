"""The JSON Lines file format: ``importer`` reads it (validated, streamed, all or nothing per
chunk), ``exporter`` writes it (and CSV); ``import-format.schema.json`` describes its records."""
