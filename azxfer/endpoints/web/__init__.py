"""The web driver: a plain HTTP(S) URL as a read-only source (`endpoint`)."""
