"""``python -m mandao``: the same as the ``mandao`` command."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="mandao")
