"""The local file system driver: the endpoint (`endpoint`), reading and writing files
(`files`), and walking folders (`walker`)."""
