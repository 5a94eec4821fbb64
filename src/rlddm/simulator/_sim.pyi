import numpy as np
from numpy.typing import NDArray

OPENMP: bool
METHOD_EULER: int
METHOD_EXACT: int
DRIFT_LINEAR: int
DRIFT_SIGMOID: int
SLOTS: tuple[str, ...]

def max_threads() -> int: ...
def simulate_batch(
    slots: NDArray[np.float64],
    outcomes: NDArray[np.float64],
    options: NDArray[np.int32],
    n_options: int,
    q0: float,
    drift_map: int,
    dt: float,
    max_steps: int,
    max_retries: int,
    key0: int,
    key1: int,
    first_index: int,
    method: int,
    n_threads: int,
    rt: NDArray[np.float64],
    choice: NDArray[np.int8],
    reward: NDArray[np.float64],
    outcome: NDArray[np.float64],
    retries: NDArray[np.int32],
    lapse: NDArray[np.int8],
    q: NDArray[np.float64],
    record_q: bool,
) -> None: ...
def replay_drifts(
    slots: NDArray[np.float64],
    choice: NDArray[np.int8],
    reward: NDArray[np.float64],
    options: NDArray[np.int32],
    n_options: int,
    q0: float,
    drift_map: int,
    out: NDArray[np.float64],
    n_threads: int = ...,
) -> None: ...
def stream_normals(key0: int, key1: int, index: int, out: NDArray[np.float64]) -> None: ...
def first_passage_batch(
    v: NDArray[np.float64],
    a: NDArray[np.float64],
    w: NDArray[np.float64],
    key0: int,
    key1: int,
    index: int,
    decision_time: NDArray[np.float64],
    choice: NDArray[np.int8],
    method: int = ...,
    dt: float = ...,
    max_steps: int = ...,
) -> None: ...
def replay_q_differences(
    choice: NDArray[np.int8],
    reward: NDArray[np.float64],
    learning_rates: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None: ...
def replay_sums(
    choice: NDArray[np.int8],
    reward: NDArray[np.float64],
    rt: NDArray[np.float64],
    learning_rates: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None: ...
def wiener_log_density(
    t: NDArray[np.float64],
    choice: NDArray[np.int8],
    v: NDArray[np.float64],
    a: NDArray[np.float64],
    w: NDArray[np.float64],
    out: NDArray[np.float64],
) -> int: ...
def wiener_log_response(
    u: NDArray[np.float64],
    s: NDArray[np.float64],
    w: NDArray[np.float64],
    out: NDArray[np.float64],
) -> int: ...
