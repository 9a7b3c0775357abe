"""``python -m ddbkit``: the same as the ``ddbkit`` command."""

from ddbkit.cli.main import main

if __name__ == "__main__":
    main()
