/* NumPy's ziggurat standard normal (random_standard_normal, Marsaglia & Tsang 2000
 * with 256 layers), inlined over our Philox stream: bit-for-bit the draws of
 * Generator(Philox(key, counter=[0, 0, 0, index])).standard_normal().
 *
 * NumPy's sampler reads one 64-bit word r: idx = r & 0xff (layer), bit 8 = sign,
 * rabs = bits 9..60. It returns x = +-rabs * wi[idx] when rabs < ki[idx], which
 * holds for 98.5% of words. Only that common case is written here; it needs
 * the tables wi and ki alone. A rejected word (wedge test with fi and exp, or the
 * tail beyond r via log1p for idx == 0) is handed back to the stream and NumPy's
 * own sampler, linked from libnpyrandom.a, takes over from that word: the rare
 * path then is NumPy's code with NumPy's fi, r and 1/r, not a copy of it.
 *
 * wi and ki are not copied from NumPy's source: rlddm_ziggurat_init() reads them
 * out of the linked sampler by feeding it chosen words through a probing bitgen_t
 * (rabs = 1 returns wi[idx] exactly; ki[idx] is the least rabs whose word is
 * rejected, found by bisection), then checks the inline sampler against NumPy's
 * on boundary words and on a stream. Call it once before drawing. The table is a
 * static of this header: include it in one translation unit (the _sim module). */
#ifndef RLDDM_ZIGGURAT_H
#define RLDDM_ZIGGURAT_H

#include <stdint.h>
#include <string.h>
#include "numpy/random/bitgen.h"
#include "numpy/random/distributions.h"
#include "_philox.h"

#define RLDDM_ZIG_RABS_END (1ULL << 52) /* rabs < 2^52: ki == 2^52 accepts all */

/* Layer idx of NumPy's ziggurat: accept rabs < ki, then x = rabs * wi. */
typedef struct {
    uint64_t ki;
    double wi;
} rlddm_zig_layer;

static rlddm_zig_layer rlddm_zig_layers[256];

/* A rejected word: put it back (the Philox buffer still holds it) and let NumPy's
 * sampler redraw it, reject it as we did, and run its wedge or tail test. */
static __attribute__((noinline, cold)) double
rlddm_standard_normal_rejected(rlddm_philox_state *s) {
    bitgen_t bitgen;
    s->buffer_pos--;
    rlddm_philox_bitgen(s, &bitgen);
    return random_standard_normal(&bitgen);
}

static inline double rlddm_standard_normal(rlddm_philox_state *s) {
    uint64_t r = rlddm_philox_next64(s);
    const rlddm_zig_layer *layer = &rlddm_zig_layers[r & 0xff];
    uint64_t rabs = (r >> 9) & 0x000fffffffffffffULL;
    double x = (double)rabs * layer->wi;
    uint64_t bits;
    /* Bit 8 is the sign: flip x's sign bit without a branch (it is a coin flip,
     * so a branch would be mispredicted half the time); same bits as -x. */
    memcpy(&bits, &x, sizeof bits);
    bits ^= (r & 0x100) << 55;
    memcpy(&x, &bits, sizeof x);
    if (__builtin_expect(rabs < layer->ki, 1)) {
        return x;
    }
    return rlddm_standard_normal_rejected(s);
}

/* ---- Reading wi and ki out of NumPy's sampler ---------------------------------- */

/* A bitgen_t that gives NumPy's sampler one chosen word, then (should it loop)
 * idx 255 with rabs 0, which every ziggurat accepts; doubles are 0.0 first, then
 * 0.5, which ends a wedge test (x near 0) and the tail loop. It counts the calls. */
typedef struct {
    uint64_t word;
    int n_words;
    int n_doubles;
} rlddm_zig_probe;

static uint64_t rlddm_zig_probe_next64(void *state) {
    rlddm_zig_probe *p = (rlddm_zig_probe *)state;
    return p->n_words++ == 0 ? p->word : 255;
}

static uint32_t rlddm_zig_probe_next32(void *state) {
    return (uint32_t)rlddm_zig_probe_next64(state);
}

static double rlddm_zig_probe_next_double(void *state) {
    rlddm_zig_probe *p = (rlddm_zig_probe *)state;
    return p->n_doubles++ == 0 ? 0.0 : 0.5;
}

static double rlddm_zig_numpy(uint64_t word, rlddm_zig_probe *p) {
    bitgen_t bitgen;
    p->word = word;
    p->n_words = 0;
    p->n_doubles = 0;
    bitgen.state = p;
    bitgen.next_uint64 = rlddm_zig_probe_next64;
    bitgen.next_uint32 = rlddm_zig_probe_next32;
    bitgen.next_double = rlddm_zig_probe_next_double;
    bitgen.next_raw = rlddm_zig_probe_next64;
    return random_standard_normal(&bitgen);
}

static inline uint64_t rlddm_zig_word(unsigned idx, int negative, uint64_t rabs) {
    return (uint64_t)idx | ((uint64_t)(negative != 0) << 8) | (rabs << 9);
}

/* NumPy rejects the word (and goes on to a wedge or tail test) iff it reads a double. */
static int rlddm_zig_rejected(unsigned idx, uint64_t rabs) {
    rlddm_zig_probe p;
    rlddm_zig_numpy(rlddm_zig_word(idx, 0, rabs), &p);
    return p.n_doubles > 0;
}

/* The inline common case must give NumPy's bits (sign of zero included) whenever it
 * accepts, and NumPy must reject whenever it does not. */
static int rlddm_zig_check_word(uint64_t word) {
    rlddm_zig_probe p;
    const rlddm_zig_layer *layer = &rlddm_zig_layers[word & 0xff];
    uint64_t rabs = (word >> 9) & 0x000fffffffffffffULL;
    double mine = (double)rabs * layer->wi, theirs;
    if (word & 0x100) {
        mine = -mine;
    }
    theirs = rlddm_zig_numpy(word, &p);
    if (rabs < layer->ki) {
        return p.n_words == 1 && p.n_doubles == 0 && memcmp(&mine, &theirs, sizeof mine) == 0;
    }
    return p.n_doubles > 0;
}

static uint64_t rlddm_zig_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Check the inline sampler against NumPy's: the common case on every layer's
 * boundary words (both signs) and on 2^16 random words, then 2^16 draws of one
 * Philox stream (about 1000 rejected words: wedge and tail) against
 * random_standard_normal on the same stream. Returns 0 when all agree bit for bit,
 * else the number of the failed check. */
static int rlddm_ziggurat_check(void) {
    rlddm_philox_state mine_state, numpy_state;
    bitgen_t numpy_bitgen, unused;
    uint64_t seed = 12345;
    unsigned idx;
    int i, k;

    for (idx = 0; idx < 256; idx++) {
        uint64_t ki = rlddm_zig_layers[idx].ki;
        uint64_t edge[6] = {0, 1, ki > 0 ? ki - 1 : 0, ki < RLDDM_ZIG_RABS_END ? ki : 0,
                            RLDDM_ZIG_RABS_END - 1, RLDDM_ZIG_RABS_END / 2};
        for (k = 0; k < 12; k++) {
            if (!rlddm_zig_check_word(rlddm_zig_word(idx, k & 1, edge[k / 2]))) {
                return 2;
            }
        }
    }
    for (i = 0; i < (1 << 16); i++) {
        if (!rlddm_zig_check_word(rlddm_zig_splitmix64(&seed))) {
            return 3;
        }
    }
    rlddm_stream_init(&mine_state, &unused, 0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL, 7);
    rlddm_stream_init(&numpy_state, &numpy_bitgen, 0x0123456789ABCDEFULL,
                      0xFEDCBA9876543210ULL, 7);
    for (i = 0; i < (1 << 16); i++) {
        double mine = rlddm_standard_normal(&mine_state);
        double theirs = random_standard_normal(&numpy_bitgen);
        if (memcmp(&mine, &theirs, sizeof mine) != 0) {
            return 4;
        }
    }
    return 0;
}

/* Fill the layer table from NumPy's sampler, then check it. Returns 0 on success,
 * else the number of the failed step (1: reading the table, 2-4: the checks); the
 * table is then unusable. Call once, before any draw (the module's import). */
static int rlddm_ziggurat_init(void) {
    rlddm_zig_probe p;
    uint64_t lo, hi, mid;
    unsigned idx;

    for (idx = 0; idx < 256; idx++) {
        /* ki[idx]: the least rabs in [0, 2^52] that is rejected (2^52: none is). */
        lo = 0;
        hi = RLDDM_ZIG_RABS_END;
        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            if (rlddm_zig_rejected(idx, mid)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        rlddm_zig_layers[idx].ki = lo;
        /* wi[idx] = 1 * wi[idx]. A layer that rejects rabs = 1 (NumPy's top layer,
         * ki = 0) still returns this x from its wedge test: u = 0.0 puts the test at
         * fi[idx] < exp(-x * x / 2) = 1. Layer 0 would go to the tail instead. */
        rlddm_zig_layers[idx].wi = rlddm_zig_numpy(rlddm_zig_word(idx, 0, 1), &p);
        if (p.n_words != 1 || (idx == 0 && p.n_doubles != 0) ||
            !(rlddm_zig_layers[idx].wi > 0.0)) {
            return 1;
        }
    }
    return rlddm_ziggurat_check();
}

#endif
