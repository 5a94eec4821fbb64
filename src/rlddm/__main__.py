"""``python -m rlddm``: the ``rlddm`` command line."""

from .cli import main

main()
