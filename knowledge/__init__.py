"""knowledge/: retrieval over the project's documents and FAQ items. No web code here."""
