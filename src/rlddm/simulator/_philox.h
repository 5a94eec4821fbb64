/* Philox4x64-10 (Salmon et al. 2011), bit-for-bit the stream of NumPy's
 * numpy.random.Philox, exposed as a NumPy bitgen_t so NumPy's own samplers
 * (ziggurat normal, exponential, uniform) run on it without a Python object.
 * One stream per simulation: key from the user's seed, counter word 3 = the
 * simulation's index, so a simulation's draws depend only on (seed, index). */
#ifndef RLDDM_PHILOX_H
#define RLDDM_PHILOX_H

#include <stdint.h>
#include "numpy/random/bitgen.h"

typedef struct {
    uint64_t ctr[4];
    uint64_t key[2];
    uint64_t buffer[4];
    int buffer_pos;
    int has_uint32;
    uint32_t uinteger;
} rlddm_philox_state;

static inline uint64_t rlddm_mulhilo64(uint64_t a, uint64_t b, uint64_t *hi) {
    __uint128_t product = (__uint128_t)a * (__uint128_t)b;
    *hi = (uint64_t)(product >> 64);
    return (uint64_t)product;
}

static inline void rlddm_philox_block(rlddm_philox_state *s) {
    uint64_t c0 = s->ctr[0], c1 = s->ctr[1], c2 = s->ctr[2], c3 = s->ctr[3];
    uint64_t k0 = s->key[0], k1 = s->key[1];
    uint64_t hi0, hi1, lo0, lo1;
    int round;
    for (round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += 0x9E3779B97F4A7C15ULL;
            k1 += 0xBB67AE8584CAA73BULL;
        }
        lo0 = rlddm_mulhilo64(0xD2E7470EE14C6C93ULL, c0, &hi0);
        lo1 = rlddm_mulhilo64(0xCA5A826395121157ULL, c2, &hi1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    s->buffer[0] = c0;
    s->buffer[1] = c1;
    s->buffer[2] = c2;
    s->buffer[3] = c3;
}

static inline uint64_t rlddm_philox_next64(void *state) {
    rlddm_philox_state *s = (rlddm_philox_state *)state;
    if (s->buffer_pos < 4) {
        return s->buffer[s->buffer_pos++];
    }
    /* NumPy increments the 256-bit counter before each block. */
    if (++s->ctr[0] == 0 && ++s->ctr[1] == 0 && ++s->ctr[2] == 0) {
        ++s->ctr[3];
    }
    rlddm_philox_block(s);
    s->buffer_pos = 1;
    return s->buffer[0];
}

static inline uint32_t rlddm_philox_next32(void *state) {
    rlddm_philox_state *s = (rlddm_philox_state *)state;
    uint64_t next;
    if (s->has_uint32) {
        s->has_uint32 = 0;
        return s->uinteger;
    }
    next = rlddm_philox_next64(state);
    s->has_uint32 = 1;
    s->uinteger = (uint32_t)(next >> 32);
    return (uint32_t)(next & 0xffffffffULL);
}

static inline double rlddm_philox_next_double(void *state) {
    return (double)(rlddm_philox_next64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Point a NumPy bitgen_t at a Philox state (NumPy's samplers then draw from it). */
static inline void rlddm_philox_bitgen(rlddm_philox_state *s, bitgen_t *bitgen) {
    bitgen->state = s;
    bitgen->next_uint64 = rlddm_philox_next64;
    bitgen->next_uint32 = rlddm_philox_next32;
    bitgen->next_double = rlddm_philox_next_double;
    bitgen->next_raw = rlddm_philox_next64;
}

/* Start the stream of simulation `index` under `key`: the state NumPy's
 * Philox(key=key, counter=[0, 0, 0, index]) has on construction. */
static inline void rlddm_stream_init(rlddm_philox_state *s, bitgen_t *bitgen,
                                     uint64_t key0, uint64_t key1, uint64_t index) {
    s->ctr[0] = 0;
    s->ctr[1] = 0;
    s->ctr[2] = 0;
    s->ctr[3] = index;
    s->key[0] = key0;
    s->key[1] = key1;
    s->buffer_pos = 4;
    s->has_uint32 = 0;
    s->uinteger = 0;
    rlddm_philox_bitgen(s, bitgen);
}

#endif
