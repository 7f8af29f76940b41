"""`python -m azxfer` runs the command-line interface."""

from azxfer.cli.entry import main

if __name__ == "__main__":
    main()
