"""NumPy-style seeds, checked in one place, and the 128-bit key of the per-simulation Philox streams."""

from __future__ import annotations

from typing import Union

import numpy as np

SeedLike = Union[None, int, np.integer, np.random.SeedSequence, np.random.BitGenerator,
                 np.random.Generator]


def check_seed(seed: object, name: str = "seed") -> SeedLike:
    """Return ``seed`` if it follows NumPy's seed conventions as rlddm takes them.

    Raises
    ------
    ValueError
        Naming ``name`` on anything but None, a non-negative int (not a bool; any size), a
        SeedSequence, a BitGenerator or a Generator: floats, strings and sequences
        included, which NumPy would reject with a TypeError or read as entropy.
    """
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.BitGenerator,
                                         np.random.Generator)):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {seed}")
        return int(seed)
    raise ValueError(f"{name} must be None, a non-negative int, a SeedSequence, a BitGenerator "
                     f"or a Generator, got {seed!r}")


def generator(seed: SeedLike, name: str = "seed") -> np.random.Generator:
    """``np.random.default_rng(seed)`` for a checked seed (a Generator is returned as is)."""
    return np.random.default_rng(check_seed(seed, name))


def stream_key(seed: SeedLike) -> tuple[int, int]:
    """Derive the Philox key shared by all simulations of one call.

    Simulation ``i`` of a batch then draws from ``Philox(key, counter=[0, 0, 0, i])``,
    so its numbers depend only on the seed and its index.

    Parameters
    ----------
    seed : None, int, SeedSequence, BitGenerator or Generator
        NumPy's seed conventions. A Generator or BitGenerator is advanced by two
        64-bit draws, so consecutive calls with one Generator give new streams.

    Returns
    -------
    tuple of int
        The two 64-bit key words.
    """
    seed = check_seed(seed)
    if isinstance(seed, np.random.BitGenerator):
        seed = np.random.Generator(seed)
    if isinstance(seed, np.random.Generator):
        words = seed.integers(0, 2**64 - 1, size=2, dtype=np.uint64, endpoint=True)
    elif isinstance(seed, np.random.SeedSequence):
        words = seed.generate_state(2, np.uint64)
    else:
        words = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


def stream_generator(key: tuple[int, int], index: int) -> np.random.Generator:
    """The NumPy Generator over the stream of simulation ``index`` (for the reference)."""
    bit_generator = np.random.Philox(
        key=np.array(key, dtype=np.uint64),
        counter=np.array([0, 0, 0, index], dtype=np.uint64),
    )
    return np.random.Generator(bit_generator)
