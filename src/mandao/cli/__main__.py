"""``python -m mandao.cli``: the same as the ``mandao`` command."""

from . import main

if __name__ == "__main__":
    main()
