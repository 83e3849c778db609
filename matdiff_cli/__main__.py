"""``python -m matdiff_cli``: the same as the ``matdiff`` command."""
from .cli import main

if __name__ == "__main__":
    main()
