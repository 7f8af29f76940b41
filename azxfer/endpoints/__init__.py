"""One driver per service behind the small contract in `base`."""
