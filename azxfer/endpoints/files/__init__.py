"""The Azure Files driver: a share (and a directory or file in it) as a source or a
destination, over the service-neutral REST client (`transport.rest`)."""
