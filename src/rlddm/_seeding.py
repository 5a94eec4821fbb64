"""Turn a NumPy-style seed into the 128-bit key of the per-simulation Philox streams."""

from __future__ import annotations

from typing import Union

import numpy as np

SeedLike = Union[None, int, np.integer, np.random.SeedSequence, np.random.BitGenerator,
                 np.random.Generator]


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
    if isinstance(seed, np.random.Generator):
        words = seed.integers(0, 2**64 - 1, size=2, dtype=np.uint64, endpoint=True)
    elif isinstance(seed, np.random.BitGenerator):
        words = np.random.Generator(seed).integers(0, 2**64 - 1, size=2, dtype=np.uint64,
                                                   endpoint=True)
    elif isinstance(seed, np.random.SeedSequence):
        words = seed.generate_state(2, np.uint64)
    elif seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        words = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    else:
        raise ValueError(
            "seed must be None, a non-negative int, a SeedSequence, a BitGenerator or a "
            f"Generator, got {seed!r}"
        )
    return int(words[0]), int(words[1])


def stream_generator(key: tuple[int, int], index: int) -> np.random.Generator:
    """The NumPy Generator over the stream of simulation ``index`` (for the reference)."""
    bit_generator = np.random.Philox(
        key=np.array(key, dtype=np.uint64),
        counter=np.array([0, 0, 0, index], dtype=np.uint64),
    )
    return np.random.Generator(bit_generator)
