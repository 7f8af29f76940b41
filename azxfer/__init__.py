"""azxfer: a fast, resumable, verifiable data mover for Azure Storage."""

__version__ = "0.1.0"
