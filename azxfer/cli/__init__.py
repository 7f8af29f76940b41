"""The command-line interface: the only layer that imports click or rich."""
