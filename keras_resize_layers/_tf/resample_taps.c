// KrlResampleTaps: both passes of `_core/taps.passes` as one TensorFlow CPU op.
//
// Written against TensorFlow's C kernel API (tensorflow/c/kernels.h, ops.h),
// so it compiles in well under a second with a C compiler and links only
// libtensorflow_framework. `_tf/native.py` builds it on first use.
//
// images (N, H, W, C) uint8 or float32; iy, wy (B, h, Ky) and ix, wx (B, w, Kx)
// the int32 input rows / columns and float32 weights of each output row /
// column, B = 1 (shared) or N (per image). Output (N, h, w, C), float32, or
// uint8 with `out_type` (rounded half to even and saturated, as tf.round, clip, cast):
//   out[n, o, p, c] = sum_s wx[p, s] * (sum_t wy[o, t] * images[n, iy[o, t], ix[p, s], c])
// with both sums in tap order, like the XLA passes. The rows pass sums Ky input
// rows into a float row per output row (vectorised across width * channels,
// four vectors of sums at a time, reading the integer input directly and
// fetching the rows ahead slice by slice; uint8 rows also four output rows at a
// time, each input row widened once: `rows_grouped`; which of these ways is fastest
// is measured per class of plan on the host: `row_mode`); the columns pass reads the float
// rows of 16 output rows at once with AVX-512, 8 with AVX2, one without, several
// pixels' sums at a time. Tasks of one image's 16 / 8 rows are
// shared by the calling thread and one process-wide pool of threads (at most
// `krl_set_max_threads` - 1, started once), never threads per call. uint8 inputs
// skip each output's trailing zero-weight taps; float32 outputs over half the
// last-level cache, or (attribute `buffered`: a tf.data function's, which waits in a
// buffer) over one core's L2, are written with streaming stores.

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"
typedef struct TF_DimensionHandle TF_DimensionHandle;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeHandle TF_ShapeHandle;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
#include "tensorflow/c/ops.h"

#define MAX_THREADS 256
#define AHEAD_ROWS 64  // input rows fetched ahead per output row, at most
#ifndef PREFETCH_LOCALITY
#define PREFETCH_LOCALITY 3
#endif

typedef struct {
  const uint8_t* in;  // image bytes
  int is_float;
  int64_t n, H, W, C, h, w, ky, kx, by, bx;
  const int32_t *iy, *ix;
  const float *wy, *wx;
  float* out;      // float32 output, or NULL
  int stream;      // float32 output stored past the caches (see `stream_threshold`)
  int trim;        // skip each output's trailing zero-weight taps (uint8 input: finite)
  uint8_t* out8;   // uint8 output (rounded half to even, saturated), or NULL
  int64_t tasks_per_image, tasks, next;  // `next`: shared task counter
  int mode;         // how rows are summed (MODE_* bits), or -1: each mode timed in turn
  int64_t key[4];   // the plan's class (`plan_class`), for `row_mode` / `tune_record`
  int64_t ns[4], rows[4];  // with mode -1: time spent and rows summed per mode
  int failed;
  int active;  // threads inside `worker` for this job (guarded by pool.lock)
} Job;

// --- rows pass: acc[j] = sum_t wt[t] * src[t][j], j < wc ---------------------

#if defined(__FMA__) || defined(__AVX512F__)
#define MADD(w, x, a) __builtin_fmaf((w), (x), (a))
#else
#define MADD(w, x, a) ((a) + (w) * (x))
#endif

static inline float load_one(const uint8_t* row, int is_float, int64_t j) {
  return is_float ? ((const float*)row)[j] : (float)row[j];
}

// Bytes [from, to) of each of the n rows `ahead` on their way to the cache.
static inline void prefetch_rows(const uint8_t* const* ahead, int64_t n, int64_t from,
                                 int64_t to) {
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = from; b < to; b += 64) __builtin_prefetch(ahead[a] + b, 0, PREFETCH_LOCALITY);
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
// Vectors of LANES floats (AVX-512 or AVX2), for both passes.
#define VECTORS 1
#if defined(__AVX512F__)
#define LANES 16
typedef __m512 vf;
#define V(op) _mm512_##op
#else
#define LANES 8
typedef __m256 vf;
#define V(op) _mm256_##op
#endif

// LANES values of a row from value j: float32, or uint8 widened to float.
static inline __attribute__((always_inline)) vf load_v(const uint8_t* row, int is_float,
                                                        int64_t j) {
  if (is_float) return V(loadu_ps)((const float*)row + j);
#if defined(__AVX512F__)
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)(row + j))));
#else
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(row + j))));
#endif
}

// The vector part of the rows pass, for one input type (`is_float` a constant
// where it is inlined); returns the first value it did not sum. Four
// independent vectors of sums per pass over the taps, then one: each sum is a
// chain of K dependent FMAs, and one or two chains left the FMA units waiting
// on their latency (each value's sum, and so its rounding, is the same).
static inline __attribute__((always_inline)) int64_t rows_vectors(
    const uint8_t* const* src, int is_float, int64_t j, int64_t wc, const float* wt, int64_t k,
    float* acc, const uint8_t* const* ahead, int64_t n_ahead) {
  const int64_t item = is_float ? 4 : 1, step = 4 * LANES * item;
  for (; j + 4 * LANES <= wc; j += 4 * LANES) {
    // A slice of the rows ahead per step (whole 64-byte lines: a 32-byte step
    // fetches every other time).
    if (step >= 64 || !((j * item) & 63))
      prefetch_rows(ahead, n_ahead, j * item, j * item + (step > 64 ? step : 64));
    vf w = V(set1_ps)(wt[0]);
    vf a = V(mul_ps)(w, load_v(src[0], is_float, j));
    vf b = V(mul_ps)(w, load_v(src[0], is_float, j + LANES));
    vf c = V(mul_ps)(w, load_v(src[0], is_float, j + 2 * LANES));
    vf d = V(mul_ps)(w, load_v(src[0], is_float, j + 3 * LANES));
    for (int64_t t = 1; t < k; ++t) {
      w = V(set1_ps)(wt[t]);
      a = V(fmadd_ps)(w, load_v(src[t], is_float, j), a);
      b = V(fmadd_ps)(w, load_v(src[t], is_float, j + LANES), b);
      c = V(fmadd_ps)(w, load_v(src[t], is_float, j + 2 * LANES), c);
      d = V(fmadd_ps)(w, load_v(src[t], is_float, j + 3 * LANES), d);
    }
    V(storeu_ps)(acc + j, a);
    V(storeu_ps)(acc + j + LANES, b);
    V(storeu_ps)(acc + j + 2 * LANES, c);
    V(storeu_ps)(acc + j + 3 * LANES, d);
  }
  for (; j + LANES <= wc; j += LANES) {
    vf a = V(mul_ps)(V(set1_ps)(wt[0]), load_v(src[0], is_float, j));
    for (int64_t t = 1; t < k; ++t)
      a = V(fmadd_ps)(V(set1_ps)(wt[t]), load_v(src[t], is_float, j), a);
    V(storeu_ps)(acc + j, a);
  }
  return j;
}
#else
#define VECTORS 0
#endif

// `ahead`: the n input rows the next rows pass reads first, fetched a slice at
// a time while this one sums (spread over the pass, not a burst before it).
// Values [j, wc) of the row.
static void rows_pass(const uint8_t* const* src, int is_float, int64_t j, int64_t wc,
                      const float* wt, int64_t k, float* acc,
                      const uint8_t* const* ahead, int64_t n_ahead) {
  const int64_t item = is_float ? 4 : 1;
#if VECTORS
  j = is_float ? rows_vectors(src, 1, j, wc, wt, k, acc, ahead, n_ahead)
               : rows_vectors(src, 0, j, wc, wt, k, acc, ahead, n_ahead);
#endif
  // The last values of the row (all of it without AVX2): with FMA hardware
  // one explicit FMA per tap, as in the vectors above, so that a value's
  // rounding does not depend on where the row ends (an image padded into a
  // wider batch gives the same pixels; GCC left `a += w * x` as a multiply and
  // an add for uint8, and vectorised it the same way for K > 14). Then the rest
  // of the rows ahead (all of them in builds without vectors).
  prefetch_rows(ahead, n_ahead, j * item, wc * item);
  for (; j < wc; ++j) {
    float a = wt[0] * load_one(src[0], is_float, j);
    for (int64_t t = 1; t < k; ++t) a = MADD(wt[t], load_one(src[t], is_float, j), a);
    acc[j] = a;
  }
}

// Taps an output sums: k, or with `trim` k less its trailing zero weights (at least
// one; plans pad every output to the largest K: a 256 -> 224 bilinear shrink has K = 3
// and 24 % zero taps). Only for finite values: adding a zero weight's product changes
// no sum (bit-identical on 570 outputs of three builds), but 0 * inf is NaN, so float
// inputs keep every tap, as the XLA passes do.
static inline int64_t effective_taps(const float* w, int64_t k, int trim) {
  if (trim)
    while (k > 1 && w[k - 1] == 0.0f) --k;
  return k;
}

// Whether uint8 rows are summed in groups (below); 0: every row by `rows_pass`
// (tests compare the two, benchmarks time them).
// --- how rows are summed: four ways, the same values, chosen by measurement -------
// Bit MODE_GROUPS sums uint8 rows a group of output rows at a time (`rows_grouped`),
// else one output row at a time (`rows_pass`); bit MODE_NO_AHEAD drops the prefetches
// of the next rows' inputs. All four give the same values bit for bit (tested). Which
// is fastest depends on the host's caches more than on the code: on one 2-core VM
// groups were 1.66x faster at 4096 -> 224, on another 2.2x slower (4096-pixel rows
// alias in L1), and look-ahead helped one-by-one rows at 1024 and hurt at 4096
// (BUILD_NOTES). So the mode is measured where it runs, per class of plan (input,
// row length and taps to within a factor of 2 and sqrt 2, and how many L1 sets the
// rows' starts fall in: `plan_class`), so that photos of many sizes share a few
// measurements: while a class is new, its tasks take the modes in turn and time their
// rows pass; after TUNE_ROWS output rows per mode (the class's first call not counted:
// it warms buffers), the fastest per row is kept for every later call of the class.
#define MODE_GROUPS 1
#define MODE_NO_AHEAD 2
#define TUNE_SLOTS 64  // classes remembered; the oldest makes way
#define TUNE_ROWS 256
static int forced_mode = -1;  // -1: measured per plan; 0-3: this mode everywhere
static int64_t grouped_rows = 0;  // output rows summed in groups, ever (for tests)
void krl_set_row_mode(int mode) {
  __atomic_store_n(&forced_mode, mode < 0 || mode > 3 ? -1 : mode, __ATOMIC_RELAXED);
}
int64_t krl_grouped_rows(void) { return __atomic_load_n(&grouped_rows, __ATOMIC_RELAXED); }

// A plan's class: float input, floor(log2(bytes per row)), floor(2 log2(taps)), and
// in how many of the 64-byte line positions of a 4 KiB page (the L1 set index) the
// starts of consecutive rows fall, at most 16: 1 for 4096 x 3 uint8 rows (each
// summed row evicts the last from a 12-way set), 2 for 2048 x 3.
static void plan_class(int64_t is_float, int64_t wc, int64_t ky, int64_t* key) {
  const int64_t bytes = wc * (is_float ? 4 : 1), r = bytes % 4096;
  const int64_t low = r ? (r & -r) : 4096;  // gcd(r, 4096)
  const int t = 63 - __builtin_clzll((unsigned long long)(ky > 0 ? ky : 1));
  key[0] = is_float;
  key[1] = 63 - __builtin_clzll((unsigned long long)(bytes > 0 ? bytes : 1));
  key[2] = 2 * t + (ky * ky >= ((int64_t)2 << (2 * t)));
  key[3] = 4096 / low < 16 ? 4096 / low : 16;
}

typedef struct {
  int64_t key[4];  // `plan_class`
  int64_t jobs, ns[4], rows[4];
  int mode;  // -1 while measuring
  int used;
} Tuning;
static struct {
  pthread_mutex_t lock;
  Tuning slot[TUNE_SLOTS];
  int next;
  int64_t chosen;  // classes whose mode was chosen since the last reset (for tests)
} tuning = {PTHREAD_MUTEX_INITIALIZER};

int64_t krl_row_modes_chosen(void) {
  pthread_mutex_lock(&tuning.lock);
  const int64_t n = tuning.chosen;
  pthread_mutex_unlock(&tuning.lock);
  return n;
}

void krl_reset_row_modes(void) {
  pthread_mutex_lock(&tuning.lock);
  memset(tuning.slot, 0, sizeof(tuning.slot));
  tuning.next = 0, tuning.chosen = 0;
  pthread_mutex_unlock(&tuning.lock);
}

static Tuning* tuning_find_locked(const int64_t* key) {
  for (int i = 0; i < TUNE_SLOTS; ++i)
    if (tuning.slot[i].used && !memcmp(tuning.slot[i].key, key, sizeof(tuning.slot[i].key)))
      return &tuning.slot[i];
  return NULL;
}

// The mode chosen for plans of this class (rows of wc values, ky taps), -1 while
// measuring, -2 unseen (tests).
int krl_row_mode_of(int64_t is_float, int64_t wc, int64_t ky) {
  int64_t key[4];
  plan_class(is_float, wc, ky, key);
  pthread_mutex_lock(&tuning.lock);
  const Tuning* s = tuning_find_locked(key);
  const int mode = s ? s->mode : -2;
  pthread_mutex_unlock(&tuning.lock);
  return mode;
}

#if VECTORS
// uint8 input: GROUP_ROWS output rows at once. Their input rows overlap (a
// 1024 -> 224 row sums 11 rows, the next starts 4.6 rows lower), and each
// vector of input values was widened to float once per tap, which kept the
// vector units busier than the FMAs did. Here each input row of the group is
// widened once per slice of GROUP_VECTORS vectors and added to every output row
// that sums it, in registers. Each output's sum is the same chain, in tap order
// (a chain starting at -0: fma(w, x, -0) rounds as w * x does, zeros included).
#if LANES == 16
#define GROUP_ROWS 4  // 16 vectors of sums and 4 of input in AVX-512's 32 registers
#else
#define GROUP_ROWS 2  // AVX2 has 16
#endif
#define GROUP_VECTORS 4
#ifndef GROUP_AHEAD_LOCALITY
#define GROUP_AHEAD_LOCALITY 1
#endif

// Sums output rows r, r + 1, ... (at most GROUP_ROWS, before r1) of the image's
// input columns [off / C, ...) into `out` (rows `stride` floats apart); returns how
// many, or 0 where grouping saves nothing (one row, or taps that are not
// consecutive input rows): those rows take `rows_pass`.
static int64_t rows_grouped(const Job* job, const uint8_t* image, int64_t ty, int64_t r,
                            int64_t r1, int64_t off, int64_t span, float* out, int64_t stride,
                            const uint8_t** src, const uint8_t** ahead, int look_ahead) {
  const int64_t wc = job->W * job->C, ng = r1 - r < GROUP_ROWS ? r1 - r : GROUP_ROWS;
  int64_t first[GROUP_ROWS], taps[GROUP_ROWS], lo = INT64_MAX, hi = -1, summed = 0;
  const float* weights[GROUP_ROWS];
  for (int64_t g = 0; g < GROUP_ROWS; ++g) {
    first[g] = INT64_MAX / 2, taps[g] = 0, weights[g] = NULL;  // beyond ng: sums nothing
    if (g >= ng) continue;
    const int32_t* rows = job->iy + ty + (r + g) * job->ky;
    weights[g] = job->wy + ty + (r + g) * job->ky;
    taps[g] = effective_taps(weights[g], job->ky, job->trim);
    for (int64_t t = 1; t < taps[g]; ++t)
      if (rows[t] != rows[0] + t) return 0;
    first[g] = rows[0];
    if (rows[0] < lo) lo = rows[0];
    if (rows[0] + taps[g] - 1 > hi) hi = rows[0] + taps[g] - 1;
    summed += taps[g];
  }
  if (hi - lo + 1 >= summed) return 0;
  // The next group's new input rows go to the cache, a slice at a time.
  int64_t n_ahead = 0;
  if (look_ahead && r + ng < job->h) {
    const int64_t last = (r + ng + GROUP_ROWS < job->h ? r + ng + GROUP_ROWS : job->h) - 1;
    const int64_t y1 = job->iy[ty + last * job->ky + job->ky - 1];
    for (int64_t y = hi + 1; y <= y1 && n_ahead < AHEAD_ROWS; ++y)
      ahead[n_ahead++] = image + y * wc + off;
  }
  const int64_t step = GROUP_VECTORS * LANES;
  int64_t j = 0;
  for (; j + step <= span; j += step) {
    if (step >= 64 || !(j & 63))
      for (int64_t a = 0; a < n_ahead; ++a) __builtin_prefetch(ahead[a] + j, 0, GROUP_AHEAD_LOCALITY);
    vf a[GROUP_ROWS][GROUP_VECTORS];
    for (int g = 0; g < GROUP_ROWS; ++g)
      for (int v = 0; v < GROUP_VECTORS; ++v) a[g][v] = V(set1_ps)(-0.0f);
    for (int64_t y = lo; y <= hi; ++y) {
      const uint8_t* row = image + y * wc + off;
      __builtin_prefetch(row + j + 256, 0, PREFETCH_LOCALITY);  // this row's next line
      vf x[GROUP_VECTORS];
      for (int v = 0; v < GROUP_VECTORS; ++v) x[v] = load_v(row, 0, j + v * LANES);
#pragma GCC unroll 4
      for (int g = 0; g < GROUP_ROWS; ++g) {
        const uint64_t t = (uint64_t)(y - first[g]);
        if (t < (uint64_t)taps[g]) {
          const vf w = V(set1_ps)(weights[g][t]);
          for (int v = 0; v < GROUP_VECTORS; ++v) a[g][v] = V(fmadd_ps)(w, x[v], a[g][v]);
        }
      }
    }
    for (int g = 0; g < GROUP_ROWS; ++g)
      if (g < ng)
        for (int v = 0; v < GROUP_VECTORS; ++v)
          V(storeu_ps)(out + g * stride + j + v * LANES, a[g][v]);
  }
  // The row's last values, each output row on its own.
  for (int64_t g = 0; g < ng; ++g) {
    for (int64_t t = 0; t < taps[g]; ++t) src[t] = image + (first[g] + t) * wc + off;
    rows_pass(src, 0, j, span, weights[g], taps[g], out + g * stride, NULL, 0);
  }
  return ng;
}
#endif

// --- columns pass: out[p, c] = sum_s wx[p, s] * row[ix[p, s] * C + c] ---------

#if VECTORS
// With AVX2 or AVX-512: across the task's rows, one per vector lane.
// A task's LANES rows-pass rows are transposed into `lanes` (lanes[j * LANES
// + r] = row r's value j), so that one FMA serves the same output pixel and
// channel of all the task's rows: no lane wasted for any C, no per-row index
// loads. The results are transposed back, LANES values of each row at a time.
// Same sums in the same order as the one-row pass below (builds without AVX2).
// LANES x LANES floats: r[i][j] -> r[j][i]. Within each 128-bit lane first
// (u[4g + m], lane L: column 4L + m of rows 4g .. 4g + 3), then across lanes.
static inline void transpose(vf* r) {
  vf t[LANES], u[LANES];
  for (int q = 0; q < LANES; q += 2) {
    t[q] = V(unpacklo_ps)(r[q], r[q + 1]);
    t[q + 1] = V(unpackhi_ps)(r[q], r[q + 1]);
  }
  for (int q = 0; q < LANES; q += 4) {
    u[q] = V(shuffle_ps)(t[q], t[q + 2], 0x44);
    u[q + 1] = V(shuffle_ps)(t[q], t[q + 2], 0xEE);
    u[q + 2] = V(shuffle_ps)(t[q + 1], t[q + 3], 0x44);
    u[q + 3] = V(shuffle_ps)(t[q + 1], t[q + 3], 0xEE);
  }
#if LANES == 16
  for (int m = 0; m < 4; ++m) {
    const __m512 a0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
    const __m512 a1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
    const __m512 b0 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
    const __m512 b1 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
    r[m] = _mm512_shuffle_f32x4(a0, b0, 0x88);
    r[8 + m] = _mm512_shuffle_f32x4(a0, b0, 0xDD);
    r[4 + m] = _mm512_shuffle_f32x4(a1, b1, 0x88);
    r[12 + m] = _mm512_shuffle_f32x4(a1, b1, 0xDD);
  }
#else
  for (int q = 0; q < 4; ++q) {
    r[q] = _mm256_permute2f128_ps(u[q], u[q + 4], 0x20);
    r[q + 4] = _mm256_permute2f128_ps(u[q], u[q + 4], 0x31);
  }
#endif
}
#define ROWS_PER_TASK LANES

// rows: LANES rows of wc floats, `stride` apart -> lanes (vector-aligned).
static void to_lanes(const float* rows, int64_t stride, int64_t wc, float* lanes) {
  int64_t j = 0;
  for (; j + LANES <= wc; j += LANES) {
    vf r[LANES];
    for (int q = 0; q < LANES; ++q) r[q] = V(loadu_ps)(rows + q * stride + j);
    transpose(r);
    for (int q = 0; q < LANES; ++q) V(store_ps)(lanes + (j + q) * LANES, r[q]);
  }
  for (; j < wc; ++j)
    for (int q = 0; q < LANES; ++q) lanes[j * LANES + q] = rows[q * stride + j];
}

// Output value (pixel of taps `ii`, `ww`; channel c) of all the task's rows.
static inline vf lane_value(const float* lanes, int64_t C, int64_t x0, const int32_t* ii,
                            const float* ww, int64_t k, int64_t c) {
  vf a = V(mul_ps)(V(set1_ps)(ww[0]),
                   V(load_ps)(lanes + (((int64_t)ii[0] - x0) * C + c) * LANES));
  for (int64_t s = 1; s < k; ++s)
    a = V(fmadd_ps)(V(set1_ps)(ww[s]),
                    V(load_ps)(lanes + (((int64_t)ii[s] - x0) * C + c) * LANES), a);
  return a;
}

// Transposes LANES finished values of the rows; stores the first `n` of each row
// (with `stream`, whole vector-aligned rows of vectors bypass the caches).
static inline void store_values(vf* d, float* out, int64_t stride, int64_t n_rows, int n,
                                int stream) {
  transpose(d);
  if (stream && n == LANES && n_rows == LANES &&
      !(((uintptr_t)out | (uintptr_t)stride * sizeof(float)) % sizeof(vf))) {
    for (int r = 0; r < LANES; ++r) V(stream_ps)(out + r * stride, d[r]);
    return;
  }
  if (n == LANES && n_rows == LANES) {
    for (int r = 0; r < LANES; ++r) V(storeu_ps)(out + r * stride, d[r]);
    return;
  }
  float tail[LANES];
  for (int64_t r = 0; r < n_rows; ++r) {
    V(storeu_ps)(tail, d[r]);
    memcpy(out + r * stride, tail, sizeof(float) * (size_t)n);
  }
}

// Values d[i * C + c] (pixel p + i, channel c; i < LANES) of all the task's rows.
// Each value's sum is a chain of dependent FMAs; one chain at a time waited on
// their latency, so PIXELS pixels' C chains go together when the pixels sum as
// many taps (else each pixel's C chains). A chain from -0 rounds as `lane_value`'s.
static inline __attribute__((always_inline)) void cols_block(
    const float* lanes, const int C, int64_t x0, int64_t p, const int32_t* ix, const float* wx,
    int64_t k, const int32_t* taps, vf* d) {
  // 16-24 chains of AVX-512's 32 registers, 8-12 of AVX2's 16.
  const int PIXELS = LANES == 16 ? (C == 1 ? 16 : C == 4 ? 4 : 8) : (C == 1 ? 8 : C == 4 ? 2 : 4);
  for (int i0 = 0; i0 < LANES; i0 += PIXELS) {
    const int64_t n = taps[p + i0];
    int same = 1;
    for (int i = 1; i < PIXELS; ++i) same &= taps[p + i0 + i] == n;
    if (same) {
      vf a[16][4];
      for (int i = 0; i < PIXELS; ++i)
        for (int c = 0; c < C; ++c) a[i][c] = V(set1_ps)(-0.0f);
      for (int64_t s = 0; s < n; ++s)
        for (int i = 0; i < PIXELS; ++i) {
          const int64_t at = (p + i0 + i) * k + s;
          const float* v = lanes + ((int64_t)ix[at] - x0) * C * LANES;
          const vf wt = V(set1_ps)(wx[at]);
          for (int c = 0; c < C; ++c) a[i][c] = V(fmadd_ps)(wt, V(load_ps)(v + c * LANES), a[i][c]);
        }
      for (int i = 0; i < PIXELS; ++i)
        for (int c = 0; c < C; ++c) d[(i0 + i) * C + c] = a[i][c];
    } else {
      for (int i = i0; i < i0 + PIXELS; ++i)
        for (int c = 0; c < C; ++c)
          d[i * C + c] = lane_value(lanes, C, x0, ix + (p + i) * k, wx + (p + i) * k, taps[p + i], c);
    }
  }
}

// out[r, p, c] for r < n_rows (rows `stride` floats apart) from `lanes`
// (input columns x0, x0 + 1, ...), LANES values (pixel-channel pairs) of each
// row at a time, in registers; pixel p sums its first taps[p] of the k taps.
static void cols_lanes(const float* lanes, int64_t C, int64_t x0, int64_t w, const int32_t* ix,
                       const float* wx, int64_t k, const int32_t* taps, float* out,
                       int64_t stride, int64_t n_rows, int stream) {
  int64_t p = 0, q0 = 0;
  // 1 to 4 channels: LANES pixels at a time, stored as C vectors of LANES values.
  if (C >= 1 && C <= 4) {
    vf d[4 * LANES];
    for (; p + LANES <= w; p += LANES, q0 += C * LANES) {
      switch (C) {
        case 1: cols_block(lanes, 1, x0, p, ix, wx, k, taps, d); break;
        case 2: cols_block(lanes, 2, x0, p, ix, wx, k, taps, d); break;
        case 3: cols_block(lanes, 3, x0, p, ix, wx, k, taps, d); break;
        default: cols_block(lanes, 4, x0, p, ix, wx, k, taps, d); break;
      }
      for (int64_t j = 0; j < C; ++j)
        store_values(d + j * LANES, out + q0 + j * LANES, stride, n_rows, LANES, stream);
    }
  }
  // Any C (and the last pixels of a row): a running (pixel, channel).
  const int64_t values = w * C;
  int64_t c = 0;
  while (q0 < values) {
    vf d[LANES];
    const int n = values - q0 < LANES ? (int)(values - q0) : LANES;
#pragma GCC unroll 16
    for (int i = 0; i < LANES; ++i) {
      if (i < n) {
        d[i] = lane_value(lanes, C, x0, ix + p * k, wx + p * k, taps[p], c);
        if (++c == C) c = 0, ++p;
      } else {
        d[i] = V(setzero_ps)();
      }
    }
    store_values(d, out + q0, stride, n_rows, n, stream);
    q0 += n;
  }
}
#else
#define LANES 0
#define ROWS_PER_TASK 8
// Without AVX2, one row at a time.

typedef float v4f __attribute__((vector_size(16)));

// `row` holds input columns x0, x0 + 1, ...
static void cols_pass(const float* row, int64_t C, int64_t x0, int64_t w, const int32_t* ix,
                      const float* wx, int64_t k, float* out) {
  int64_t p = 0;
  if (C == 3 || C == 4) {
    // A 4-lane vector per pixel; with C = 3 its 4th lane reads the next pixel
    // (the row has spare floats at its end) and is overwritten by the next
    // store, so the last pixel is stored lane by lane.
    for (; p < w; ++p) {
      const int32_t* ii = ix + p * k;
      const float* ww = wx + p * k;
      v4f v, a;
      memcpy(&v, row + ((int64_t)ii[0] - x0) * C, sizeof(v));
      a = ww[0] * v;
      for (int64_t s = 1; s < k; ++s) {
        memcpy(&v, row + ((int64_t)ii[s] - x0) * C, sizeof(v));
        a += ww[s] * v;
      }
      if (C == 4 || p + 1 < w) {
        memcpy(out + p * C, &a, sizeof(a));
      } else {
        for (int64_t c = 0; c < C; ++c) out[p * C + c] = a[c];
      }
    }
    return;
  }
  for (; p < w; ++p) {
    const int32_t* ii = ix + p * k;
    const float* ww = wx + p * k;
    for (int64_t c = 0; c < C; ++c) {
      float a = ww[0] * row[((int64_t)ii[0] - x0) * C + c];
      for (int64_t s = 1; s < k; ++s) a += ww[s] * row[((int64_t)ii[s] - x0) * C + c];
      out[p * C + c] = a;
    }
  }
}

#endif

// The float results as uint8: rounded half to even (the default rounding
// mode, as tf.round), then saturated to 0..255 (as clip, then cast).
// Vectors convert with the current rounding mode (to nearest, ties to even, as
// nearbyintf) and saturate while packing; NaN becomes 0 on both paths.
static void to_uint8(const float* values, int64_t n, uint8_t* out) {
  int64_t j = 0;
#if defined(__AVX512F__)
  for (; j + 16 <= n; j += 16) {
    __m512i v = _mm512_max_epi32(_mm512_cvtps_epi32(_mm512_loadu_ps(values + j)),
                                 _mm512_setzero_si512());
    _mm_storeu_si128((__m128i*)(out + j), _mm512_cvtusepi32_epi8(v));
  }
#elif defined(__AVX2__)
  for (; j + 8 <= n; j += 8) {
    __m256i v = _mm256_cvtps_epi32(_mm256_loadu_ps(values + j));
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i*)(out + j), _mm_packus_epi16(w, w));
  }
#endif
  for (; j < n; ++j) {
    float v = nearbyintf(values[j]);
    v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f;  // NaN -> 0
    out[j] = (uint8_t)v;
  }
}

// --- a thread's work buffers, kept from call to call --------------------------
// Allocated per call, buffers above glibc's mmap threshold (128 KiB at first)
// were fresh pages, faulted in, on every call. Each thread keeps its buffers (grown when a call needs more, zeroed when
// grown: rows the rows pass has not written yet hold finite values); a
// thread's exit frees them, and buffers over 2 MiB go after each call.

enum { SCRATCH_ACC, SCRATCH_LANES, SCRATCH_SRC, SCRATCH_STAGED, SCRATCH_TAPS, SCRATCH_N };
typedef struct {
  void* p[SCRATCH_N];
  size_t bytes[SCRATCH_N];
} Scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void* arg) {
  Scratch* s = (Scratch*)arg;
  for (int i = 0; i < SCRATCH_N; ++i) free(s->p[i]);
  free(s);
}

static void scratch_key_create(void) { pthread_key_create(&scratch_key, scratch_free); }

// This thread's buffer `which`, at least `bytes` long and 64-byte aligned, or NULL.
static void* scratch(int which, size_t bytes) {
  pthread_once(&scratch_once, scratch_key_create);
  Scratch* s = (Scratch*)pthread_getspecific(scratch_key);
  if (!s) {
    s = (Scratch*)calloc(1, sizeof(Scratch));
    if (!s || pthread_setspecific(scratch_key, s)) {
      free(s);
      return NULL;
    }
  }
  if (s->bytes[which] < bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;  // aligned_alloc takes a multiple
    free(s->p[which]);
    s->p[which] = aligned_alloc(64, rounded);
    s->bytes[which] = s->p[which] ? rounded : 0;
    if (s->p[which]) memset(s->p[which], 0, rounded);
  }
  return s->p[which];
}

// Buffers above 2 MiB (images over ~10000 pixels wide) are not kept: many
// threads may call the op, and each would hold them.
static void scratch_trim(void) {
  Scratch* s = (Scratch*)pthread_getspecific(scratch_key);
  for (int i = 0; s && i < SCRATCH_N; ++i)
    if (s->bytes[i] > ((size_t)2 << 20)) free(s->p[i]), s->p[i] = NULL, s->bytes[i] = 0;
}

static void* worker(void* arg) {
  Job* job = (Job*)arg;
  const int64_t wc = job->W * job->C, item = job->is_float ? 4 : 1;
  // LANES: the rows pass fills ROWS_PER_TASK rows, `stride` apart, then
  // `lanes`; otherwise one row (4 spare floats for cols_pass's vectors).
  const int64_t stride = wc + 16, block = LANES ? ROWS_PER_TASK : 1;
  float* acc = (float*)scratch(SCRATCH_ACC, sizeof(float) * (size_t)(block * stride));
  float* lanes = LANES ? (float*)scratch(
      SCRATCH_LANES, sizeof(float) * (size_t)(wc * LANES + LANES)) : NULL;
  const uint8_t** src = (const uint8_t**)scratch(
      SCRATCH_SRC, sizeof(uint8_t*) * (size_t)(job->ky + AHEAD_ROWS));
  const uint8_t** ahead = src + job->ky;
  // uint8 output: a task's float rows land here, then rounded into the output
  // (no float32 batch written to memory and read back by a cast).
  const int64_t task_values = ROWS_PER_TASK * job->w * job->C;
  float* staged = job->out8 ? (float*)scratch(
      SCRATCH_STAGED, sizeof(float) * (size_t)(task_values + 4)) : NULL;
  // Taps summed per output column: kx, less trailing zero weights with `trim`.
  int32_t* taps = LANES ? (int32_t*)scratch(SCRATCH_TAPS, sizeof(int32_t) * (size_t)job->w)
                        : NULL;
  if (!acc || !src || (LANES && !taps) || (LANES && !lanes) || (job->out8 && !staged)) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
    scratch_trim();
    return NULL;
  }
  // The columns' facts (input span, taps per column) of the last plan seen: with taps
  // shared by the batch (bx = 1), computed once per thread, not once per task.
  int64_t seen_tx = -1, x0 = 0, off = 0, span = 0, grouped = 0, ns[4] = {0}, timed[4] = {0};
  // Modes this input may take: groups only for uint8 in vector builds.
  const int grouping = VECTORS && !job->is_float;
  for (;;) {
    const int64_t task = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
    if (task >= job->tasks) break;
    const int64_t i = task / job->tasks_per_image;
    const int64_t r0 = (task % job->tasks_per_image) * ROWS_PER_TASK;
    const int64_t r1 = r0 + ROWS_PER_TASK < job->h ? r0 + ROWS_PER_TASK : job->h;
    const int64_t ty = (job->by > 1 ? i : 0) * job->h * job->ky;
    const int64_t tx = (job->bx > 1 ? i : 0) * job->w * job->kx;
    const uint8_t* image = job->in + i * job->H * wc * item;
    const int64_t first = (i * job->h + r0) * job->w * job->C;
    float* out = job->out8 ? staged : job->out + first;
    // The rows pass sums only the input columns the column taps read (a crop
    // box's, not the whole width: a 1 x 150000 strip cropped to 15000 x 10
    // summed 150000 columns for each of 15000 rows).
    if (tx != seen_tx) {
      int64_t x1 = 0;
      x0 = job->W;
      for (const int32_t *t = job->ix + tx, *end = t + job->w * job->kx; t < end; ++t) {
        if (*t < x0) x0 = *t;
        if (*t + 1 > x1) x1 = *t + 1;
      }
      if (x1 <= x0) x0 = 0, x1 = 0;
      off = x0 * job->C, span = (x1 - x0) * job->C;
#if LANES
      for (int64_t p = 0; p < job->w; ++p)
        taps[p] = (int32_t)effective_taps(job->wx + tx + p * job->kx, job->kx, job->trim);
#endif
      seen_tx = tx;
    }
    int mode = job->mode;
    struct timespec t0 = {0, 0};
    if (mode < 0) {  // measuring: the modes in turn, task by task
      mode = grouping ? (int)(task % 4) : (int)(task % 2) * MODE_NO_AHEAD;
      clock_gettime(CLOCK_MONOTONIC, &t0);
    }
    const int look_ahead = !(mode & MODE_NO_AHEAD);
    for (int64_t r = r0; r < r1; ++r) {
#if VECTORS
      if (grouping && (mode & MODE_GROUPS)) {
        const int64_t done = rows_grouped(job, image, ty, r, r1, off, span,
                                          acc + (r - r0) * stride, stride, src, ahead,
                                          look_ahead);
        if (done) {
          grouped += done;
          r += done - 1;
          continue;
        }
      }
#endif
      const int32_t* rows = job->iy + ty + r * job->ky;
      float* row = acc + (LANES ? (r - r0) * stride : 0);
      const float* wt = job->wy + ty + r * job->ky;
      const int64_t ky = effective_taps(wt, job->ky, job->trim);
      for (int64_t t = 0; t < ky; ++t) src[t] = image + ((int64_t)rows[t] * wc + off) * item;
      // The input rows first read two output rows ahead go to the cache while
      // this row is summed (images come from memory; at most 64 rows).
      int64_t n_ahead = 0;
      if (look_ahead && r + 2 < job->h) {
        const int64_t last = job->ky - 1;
        int64_t y = rows[job->ky + last] + 1, y1 = rows[2 * job->ky + last];
        if (y1 - y >= AHEAD_ROWS) y = y1 - AHEAD_ROWS + 1;
        for (; y <= y1; ++y) ahead[n_ahead++] = image + (y * wc + off) * item;
      }
      rows_pass(src, job->is_float, 0, span, wt, ky, row, ahead, n_ahead);
#if !LANES
      cols_pass(row, job->C, x0, job->w, job->ix + tx, job->wx + tx, job->kx,
                out + (r - r0) * job->w * job->C);
#endif
    }
    if (job->mode < 0) {
      struct timespec t1;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      ns[mode] += (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
      timed[mode] += r1 - r0;
    }
#if LANES
    // Rows past r1 hold older (finite) values; their results are not stored.
    to_lanes(acc, stride, span, lanes);
    cols_lanes(lanes, job->C, x0, job->w, job->ix + tx, job->wx + tx, job->kx, taps, out,
               job->w * job->C, r1 - r0, job->stream && !job->out8);
#endif
    if (job->out8) to_uint8(staged, (r1 - r0) * job->w * job->C, job->out8 + first);
  }
#if LANES
  if (job->stream) _mm_sfence();  // streamed stores are visible before the job ends
#endif
  if (grouped) __atomic_fetch_add(&grouped_rows, grouped, __ATOMIC_RELAXED);
  for (int m = 0; m < 4; ++m)
    if (timed[m]) {
      __atomic_fetch_add(&job->ns[m], ns[m], __ATOMIC_RELAXED);
      __atomic_fetch_add(&job->rows[m], timed[m], __ATOMIC_RELAXED);
    }
  scratch_trim();
  return NULL;
}

static int allowed_cores(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  return 1;
}

// --- one pool of threads for the process ---------------------------------------
// Started once, on the first call that has enough work, with `krl_set_max_threads`
// - 1 threads (the calling thread is the last one): tf.data's parallel maps and
// TensorFlow's inter-op threads call the op concurrently, and every call shares
// these threads instead of starting its own. Jobs wait in a short list; an idle
// pool thread joins the oldest job that still has tasks.

#define MAX_JOBS 64
static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  Job* jobs[MAX_JOBS];
  int njobs, size, started;
  int64_t threads_started;  // every pthread_create, for tests (`krl_threads_started`)
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static int max_threads = 0;  // 0: the CPUs this process may run on

// The most threads one call may use (the calling thread included); the pool has
// n - 1. Set by Python from tf.config.threading before the first call.
void krl_set_max_threads(int n) {
  pthread_mutex_lock(&pool.lock);
  if (!pool.started) max_threads = n;
  pthread_mutex_unlock(&pool.lock);
}

int64_t krl_threads_started(void) {
  pthread_mutex_lock(&pool.lock);
  const int64_t n = pool.threads_started;
  pthread_mutex_unlock(&pool.lock);
  return n;
}

int krl_pool_size(void) {
  pthread_mutex_lock(&pool.lock);
  const int n = pool.size;
  pthread_mutex_unlock(&pool.lock);
  return n;
}

// --- float32 outputs larger than the cache --------------------------------------
// An output of more than half the last-level cache cannot stay there for its reader
// (a tf.data batch waits in a buffer, a model's next layer reads it later): ordinary
// stores first read every line they write (twice the memory traffic) and evict the
// input. Such outputs are stored with non-temporal (streaming) stores instead, as
// glibc's memcpy does above a cache-derived size. Same values either way.

static int64_t stream_threshold = -2;  // bytes; -1: never; -2: not yet read from the CPU

// The size of cache `want` (2: L2; 0: the largest level) as Linux describes it (sysfs;
// glibc's sysconf read 320 MiB for a 2-core VM's 32 MiB L3 from CPUID), else sysconf's,
// else 0.
static int64_t cache_size(int want) {
  int64_t bytes = 0;
  int best = 0;
  for (int i = 0; i < 16; ++i) {
    char path[96];
    int level = 0;
    long long size = 0;
    char unit = 0;
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    const int got = fscanf(f, "%d", &level);
    fclose(f);
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    f = fopen(path, "r");
    if (!f) continue;
    const int got_size = fscanf(f, "%lld%c", &size, &unit);
    fclose(f);
    if (got != 1 || got_size < 1 || level < best || (want && level != want)) continue;
    best = level;
    bytes = size * (unit == 'K' ? 1024 : unit == 'M' ? 1 << 20 : unit == 'G' ? 1 << 30 : 1);
  }
#ifdef _SC_LEVEL3_CACHE_SIZE
  if (bytes <= 0 && !want) bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (bytes <= 0) bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  return bytes > 0 ? bytes : 0;
}

// Outputs of at least `bytes` are streamed (-1: never, 0: always); set by tests.
void krl_set_stream_threshold(int64_t bytes) {
  __atomic_store_n(&stream_threshold, bytes < 0 ? -1 : bytes, __ATOMIC_RELAXED);
}

int64_t krl_stream_threshold(void) {
  int64_t t = __atomic_load_n(&stream_threshold, __ATOMIC_RELAXED);
  if (t == -2) {
    const int64_t llc = cache_size(0);
    t = LANES && llc > 0 ? llc / 2 : -1;  // unknown cache, or no vector stores: never
    int64_t unset = -2;
    __atomic_compare_exchange_n(&stream_threshold, &unset, t, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    t = __atomic_load_n(&stream_threshold, __ATOMIC_RELAXED);
  }
  return t;
}

// The threshold for outputs that wait in a buffer before they are read (a tf.data
// function's: by then they have left every cache): one core's L2, or the threshold
// above where that is lower (-1, never, when streaming is off).
static int64_t l2_bytes = -2;
int64_t krl_buffered_stream_threshold(void) {
  const int64_t t = krl_stream_threshold();
  int64_t l2 = __atomic_load_n(&l2_bytes, __ATOMIC_RELAXED);
  if (l2 == -2) {
    l2 = cache_size(2);
    __atomic_store_n(&l2_bytes, l2, __ATOMIC_RELAXED);
  }
  return t < 0 || l2 <= 0 || t < l2 ? t : l2;
}

static int thread_budget(void) {
  int n = max_threads > 0 ? max_threads : allowed_cores();
  if (n > allowed_cores()) n = allowed_cores();
  if (n > MAX_THREADS) n = MAX_THREADS;
  return n < 1 ? 1 : n;
}

static Job* open_job_locked(void) {
  for (int i = 0; i < pool.njobs; ++i)
    if (__atomic_load_n(&pool.jobs[i]->next, __ATOMIC_RELAXED) < pool.jobs[i]->tasks)
      return pool.jobs[i];
  return NULL;
}

static void* pool_thread(void* arg) {
  (void)arg;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    Job* job;
    while ((job = open_job_locked()) == NULL) pthread_cond_wait(&pool.wake, &pool.lock);
    ++job->active;
    pthread_mutex_unlock(&pool.lock);
    worker(job);
    pthread_mutex_lock(&pool.lock);
    if (--job->active == 0) pthread_cond_broadcast(&pool.done);
  }
  return NULL;
}

static void start_pool_locked(void) {
  if (pool.started) return;
  pool.started = 1;
  const int want = thread_budget() - 1;
  for (int i = 0; i < want; ++i) {
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, pool_thread, NULL) == 0) {
      pthread_setname_np(tid, "krl-resample");
      ++pool.size;
      ++pool.threads_started;
    }
    pthread_attr_destroy(&attr);
  }
}

// Runs `job` on the calling thread and any idle pool threads; returns when every
// task is done. Falls back to the calling thread alone when the list is full.
static void run_job(Job* job, int parallel) {
  if (!parallel) {
    worker(job);
    return;
  }
  pthread_mutex_lock(&pool.lock);
  start_pool_locked();
  int listed = 0;
  if (pool.size > 0 && pool.njobs < MAX_JOBS) {
    pool.jobs[pool.njobs++] = job;
    listed = 1;
    pthread_cond_broadcast(&pool.wake);
  }
  ++job->active;
  pthread_mutex_unlock(&pool.lock);
  worker(job);
  pthread_mutex_lock(&pool.lock);
  --job->active;
  if (listed) {
    for (int i = 0; i < pool.njobs; ++i)
      if (pool.jobs[i] == job) {
        pool.jobs[i] = pool.jobs[--pool.njobs];
        break;
      }
  }
  while (job->active > 0) pthread_cond_wait(&pool.done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
}

// The job's mode: the forced one, the one chosen for its plan's class, or -1 (measure).
static int row_mode(Job* job) {
  const int grouping = VECTORS && !job->is_float;
  const int forced = __atomic_load_n(&forced_mode, __ATOMIC_RELAXED);
  if (forced >= 0) return grouping ? forced : forced & MODE_NO_AHEAD;
  plan_class(job->is_float, job->W * job->C, job->ky, job->key);
  pthread_mutex_lock(&tuning.lock);
  const Tuning* s = tuning_find_locked(job->key);
  const int mode = s ? s->mode : -1;
  pthread_mutex_unlock(&tuning.lock);
  return mode;
}

// Adds a measuring job's times to its class's; chooses the class's mode once every
// mode it may take has summed TUNE_ROWS rows (the class's first job not counted).
static void tune_record(const Job* job) {
  const int grouping = VECTORS && !job->is_float;
  pthread_mutex_lock(&tuning.lock);
  Tuning* s = tuning_find_locked(job->key);
  if (!s) {
    s = &tuning.slot[tuning.next];
    tuning.next = (tuning.next + 1) % TUNE_SLOTS;
    memset(s, 0, sizeof(*s));
    memcpy(s->key, job->key, sizeof(s->key));
    s->used = 1, s->mode = -1;
  }
  if (s->mode < 0 && ++s->jobs > 1) {
    int best = -1, enough = 1;
    for (int m = 0; m < 4; ++m) {
      if (!grouping && (m & MODE_GROUPS)) continue;
      s->ns[m] += job->ns[m], s->rows[m] += job->rows[m];
      if (s->rows[m] < TUNE_ROWS) enough = 0;
      else if (best < 0 || s->ns[m] * s->rows[best] < s->ns[best] * s->rows[m]) best = m;
    }
    if (enough && best >= 0) s->mode = best, ++tuning.chosen;
  }
  pthread_mutex_unlock(&tuning.lock);
}

// Returns a message, or NULL when every index lies in [0, extent).
static const char* check_indices(const int32_t* index, int64_t count, int64_t extent) {
  for (int64_t i = 0; i < count; ++i)
    if (index[i] < 0 || index[i] >= extent) return "an index outside the image";
  return NULL;
}

// The kernel's state: its `out_type` (TF_FLOAT or TF_UINT8) and `buffered`.
typedef struct {
  TF_DataType out_type;
  TF_Bool buffered;
} Kernel;

static void* create(TF_OpKernelConstruction* ctx) {
  Kernel* kernel = (Kernel*)malloc(sizeof(Kernel));
  TF_Status* status = TF_NewStatus();
  if (kernel) {
    TF_OpKernelConstruction_GetAttrType(ctx, "out_type", &kernel->out_type, status);
    if (TF_GetCode(status) != TF_OK) kernel->out_type = TF_FLOAT;
    TF_OpKernelConstruction_GetAttrBool(ctx, "buffered", &kernel->buffered, status);
    if (TF_GetCode(status) != TF_OK) kernel->buffered = 0;
  }
  TF_DeleteStatus(status);
  return kernel;
}
static void destroy(void* kernel) { free(kernel); }

static void fail(TF_OpKernelContext* ctx, TF_Status* status, const char* message) {
  TF_SetStatus(status, TF_INVALID_ARGUMENT, message);
  TF_OpKernelContext_Failure(ctx, status);
}

static void compute(void* kernel, TF_OpKernelContext* ctx) {
  TF_Status* status = TF_NewStatus();
  TF_Tensor* t[5] = {0};
  TF_Tensor* out = NULL;
  char message[256];
  for (int i = 0; i < 5; ++i) {
    TF_GetInput(ctx, i, &t[i], status);
    if (TF_GetCode(status) != TF_OK) {
      TF_OpKernelContext_Failure(ctx, status);
      goto done;
    }
  }
  if (TF_NumDims(t[0]) != 4 || TF_NumDims(t[1]) != 3 || TF_NumDims(t[2]) != 3 ||
      TF_NumDims(t[3]) != 3 || TF_NumDims(t[4]) != 3) {
    fail(ctx, status, "KrlResampleTaps: images must be (N, H, W, C), taps and weights (B, out, K).");
    goto done;
  }
  Job job;
  memset(&job, 0, sizeof(job));
  job.is_float = TF_TensorType(t[0]) == TF_FLOAT;
  job.n = TF_Dim(t[0], 0), job.H = TF_Dim(t[0], 1), job.W = TF_Dim(t[0], 2);
  job.C = TF_Dim(t[0], 3);
  job.by = TF_Dim(t[1], 0), job.h = TF_Dim(t[1], 1), job.ky = TF_Dim(t[1], 2);
  job.bx = TF_Dim(t[3], 0), job.w = TF_Dim(t[3], 1), job.kx = TF_Dim(t[3], 2);
  for (int i = 0; i < 3; ++i) {
    if (TF_Dim(t[2], i) != TF_Dim(t[1], i) || TF_Dim(t[4], i) != TF_Dim(t[3], i)) {
      fail(ctx, status, "KrlResampleTaps: taps and weights differ in shape.");
      goto done;
    }
  }
  if ((job.by != 1 && job.by != job.n) || (job.bx != 1 && job.bx != job.n) ||
      job.ky < 1 || job.kx < 1) {
    snprintf(message, sizeof(message),
             "KrlResampleTaps: taps for %lld and %lld images with %lld and %lld taps, "
             "for a batch of %lld.", (long long)job.by, (long long)job.bx,
             (long long)job.ky, (long long)job.kx, (long long)job.n);
    fail(ctx, status, message);
    goto done;
  }
  job.iy = (const int32_t*)TF_TensorData(t[1]), job.wy = (const float*)TF_TensorData(t[2]);
  job.ix = (const int32_t*)TF_TensorData(t[3]), job.wx = (const float*)TF_TensorData(t[4]);
  const char* bad = check_indices(job.iy, job.by * job.h * job.ky, job.H);
  if (!bad) bad = check_indices(job.ix, job.bx * job.w * job.kx, job.W);
  if (bad) {
    snprintf(message, sizeof(message), "KrlResampleTaps: %s (%lld x %lld).", bad,
             (long long)job.H, (long long)job.W);
    fail(ctx, status, message);
    goto done;
  }
  if (!kernel) {
    fail(ctx, status, "KrlResampleTaps: out of memory for the kernel's state.");
    goto done;
  }
  const int u8 = ((Kernel*)kernel)->out_type == TF_UINT8;
  int64_t dims[4] = {job.n, job.h, job.w, job.C};
  out = TF_AllocateOutput(ctx, 0, u8 ? TF_UINT8 : TF_FLOAT, dims, 4,
                          (u8 ? 1 : sizeof(float)) * job.n * job.h * job.w * job.C, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  if (job.n * job.h * job.w * job.C == 0) goto done;
  job.in = (const uint8_t*)TF_TensorData(t[0]);
  if (u8)
    job.out8 = (uint8_t*)TF_TensorData(out);
  else
    job.out = (float*)TF_TensorData(out);
  const int64_t threshold =
      ((Kernel*)kernel)->buffered ? krl_buffered_stream_threshold() : krl_stream_threshold();
  job.trim = !job.is_float;
  job.stream = !u8 && threshold >= 0 &&
               (int64_t)sizeof(float) * job.n * job.h * job.w * job.C >= threshold;
  job.tasks_per_image = (job.h + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
  job.tasks = job.n * job.tasks_per_image;
  // Below ~1 M multiply-adds another thread costs more than it saves.
  const int64_t work = job.n * job.h * (job.ky * job.W + job.kx * job.w) * job.C;
  job.mode = row_mode(&job);
  run_job(&job, work >= (1 << 20) && job.tasks > 1 && thread_budget() > 1);
  if (job.mode < 0 && !job.failed) tune_record(&job);
  if (job.failed) {
    TF_SetStatus(status, TF_RESOURCE_EXHAUSTED, "KrlResampleTaps: out of memory for a row buffer.");
    TF_OpKernelContext_Failure(ctx, status);
  }
done:
  if (out) TF_DeleteTensor(out);
  for (int i = 0; i < 5; ++i)
    if (t[i]) TF_DeleteTensor(t[i]);
  TF_DeleteStatus(status);
}

// (N, h, w, C): N and C from the images, h from the rows' taps (1 or N, h, K),
// w from the columns' taps (1 or N, w, K).
static void infer_shape(TF_ShapeInferenceContext* ctx, TF_Status* status) {
  TF_ShapeHandle* in[4];
  TF_ShapeHandle* part[4];
  TF_ShapeHandle *a = TF_NewShapeHandle(), *b = TF_NewShapeHandle(), *out = TF_NewShapeHandle();
  for (int i = 0; i < 4; ++i) in[i] = TF_NewShapeHandle(), part[i] = TF_NewShapeHandle();
  static const int inputs[4] = {0, 1, 3, 0}, ranks[4] = {4, 3, 3, 4};
  static const int dims[4] = {0, 1, 1, 3};
  for (int i = 0; i < 4 && TF_GetCode(status) == TF_OK; ++i) {
    TF_ShapeInferenceContextGetInput(ctx, inputs[i], in[i], status);
    if (TF_GetCode(status) == TF_OK)
      TF_ShapeInferenceContextWithRank(ctx, in[i], ranks[i], in[i], status);
    if (TF_GetCode(status) == TF_OK)
      TF_ShapeInferenceContextSubshape(ctx, in[i], dims[i], dims[i] + 1, part[i], status);
  }
  if (TF_GetCode(status) == TF_OK)
    TF_ShapeInferenceContextConcatenateShapes(ctx, part[0], part[1], a, status);
  if (TF_GetCode(status) == TF_OK)
    TF_ShapeInferenceContextConcatenateShapes(ctx, a, part[2], b, status);
  if (TF_GetCode(status) == TF_OK)
    TF_ShapeInferenceContextConcatenateShapes(ctx, b, part[3], out, status);
  if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 0, out, status);
  for (int i = 0; i < 4; ++i) TF_DeleteShapeHandle(in[i]), TF_DeleteShapeHandle(part[i]);
  TF_DeleteShapeHandle(a), TF_DeleteShapeHandle(b), TF_DeleteShapeHandle(out);
}

static void register_kernel(TF_DataType dtype) {
  TF_Status* status = TF_NewStatus();
  TF_KernelBuilder* builder =
      TF_NewKernelBuilder("KrlResampleTaps", "CPU", &create, &compute, &destroy);
  TF_KernelBuilder_TypeConstraint(builder, "T", dtype, status);
  if (TF_GetCode(status) == TF_OK) TF_RegisterKernelBuilder("KrlResampleTaps", builder, status);
  if (TF_GetCode(status) != TF_OK)
    fprintf(stderr, "KrlResampleTaps: kernel not registered: %s\n", TF_Message(status));
  TF_DeleteStatus(status);
}

__attribute__((constructor)) static void register_op(void) {
  TF_Status* status = TF_NewStatus();
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder("KrlResampleTaps");
  TF_OpDefinitionBuilderAddAttr(op, "T: {uint8, float}");
  TF_OpDefinitionBuilderAddAttr(op, "out_type: {float, uint8} = DT_FLOAT");
  TF_OpDefinitionBuilderAddAttr(op, "buffered: bool = false");
  TF_OpDefinitionBuilderAddInput(op, "images: T");
  TF_OpDefinitionBuilderAddInput(op, "iy: int32");
  TF_OpDefinitionBuilderAddInput(op, "wy: float");
  TF_OpDefinitionBuilderAddInput(op, "ix: int32");
  TF_OpDefinitionBuilderAddInput(op, "wx: float");
  TF_OpDefinitionBuilderAddOutput(op, "output: out_type");
  TF_OpDefinitionBuilderSetShapeInferenceFunction(op, &infer_shape);
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK)
    fprintf(stderr, "KrlResampleTaps: op not registered: %s\n", TF_Message(status));
  TF_DeleteStatus(status);
  register_kernel(TF_UINT8);
  register_kernel(TF_FLOAT);
}
