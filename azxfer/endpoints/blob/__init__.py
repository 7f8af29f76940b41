"""The Blob storage driver: the endpoint (`endpoint`), its readers and writers, listing, the
REST fast path (`rest`, `copy_rest`), server-side copies (`copy`, `copy_sources`), the SAS
tokens minted for them (`sas`), listings started before the job (`early_listing`), and Blob's
own error codes (`errors`)."""
