"""``python -m mlready``."""

from mlready.cli.app import main

if __name__ == "__main__":
    main()
