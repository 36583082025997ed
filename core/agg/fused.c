/*
** fused.c -- the summary of a column over a range of rows as one group:
** its count, sum, least and greatest value, made in one pass for every
** aggregate of one group that reads the column (scan.c; the kinds take
** their states from it). The rows go by blocks of 64, one word of the
** validity bitmap; within a block, nulls are masked out instead of
** skipped, so that the loops have no branch and no chain from one row to
** the next:
**
**   - integer sums add the low and the high 32 bits of each value (biased
**     to unsigned) in 64-bit words, exact, joined in 128 bits per block;
**   - float sums run Neumaier's method (sum.h) in 8 lanes, row i of the
**     range in lane (i - a) % 8, the lanes joined in order at the end:
**     as accurate as one chain, and a function of the range's values alone
**     (not of where the range starts, nor of the thread that runs it);
**   - least and greatest values in one loop, in 4 (floats: 8) lanes.
*/
#include <math.h>

#include "kind.h"
#include "sum.h"

/* ---------------------------------------------------------------------------
** Masks: MASKS[b][k] is all ones when bit k of byte b is set, else 0.
*/
#define MK(b, k) (0 - (uint64_t)(((b) >> (k)) & 1))
#define MROW(b) { MK(b, 0), MK(b, 1), MK(b, 2), MK(b, 3), MK(b, 4), MK(b, 5), MK(b, 6), MK(b, 7) }
#define MROW4(b) MROW(b), MROW((b) + 1), MROW((b) + 2), MROW((b) + 3)
#define MROW16(b) MROW4(b), MROW4((b) + 4), MROW4((b) + 8), MROW4((b) + 12)
#define MROW64(b) MROW16(b), MROW16((b) + 16), MROW16((b) + 32), MROW16((b) + 48)

static const uint64_t MASKS[256][8] __attribute__((aligned(64))) = {
  MROW64(0), MROW64(64), MROW64(128), MROW64(192)
};

typedef double v2d __attribute__((vector_size(16)));
typedef uint64_t v2u __attribute__((vector_size(16)));

#define BIAS ((uint64_t)1 << 63)
#define LO32 ((uint64_t)0xffffffff)

int tl_agg_colsum_fits(tl_type type, unsigned want) {
  switch (type) {
    case TL_INT: case TL_TIMESTAMP: case TL_FLOAT: return 1;
    case TL_DATE: return !(want & CS_SUM);
    default: return 0;
  }
}

/* Asks for the 8-byte values of a block ahead (a hint: the loops run
** ahead of what the hardware fetches by itself from one stream, and leave
** it memory to wait for instead of both in turn). */
#define PF_AHEAD 16        /* blocks, 8 KB */
static inline void prefetch_block(const void *p) {
  for (int k = 0; k < 8; k++) __builtin_prefetch((const char *)p + 64 * k);
}

/* n <= 64 validity bits of rows i .. i + n - 1 (vb NULL: all valid). */
static inline uint64_t bits_at(const uint8_t *vb, int64_t i, int64_t n) {
  uint64_t keep = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
  if (!vb) return keep;
  int sh = (int)(i & 7);
  const uint8_t *p = vb + (i >> 3);
  uint64_t m = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n == 64) {
    memcpy(&m, p, sizeof m);
    return sh ? (m >> sh) | ((uint64_t)p[8] << (64 - sh)) : m;
  }
#endif
  int64_t nb = (sh + n + 7) / 8;
  for (int64_t k = 0; k < nb && k < 8; k++) m |= (uint64_t)p[k] << (8 * k);
  m >>= sh;
  if (sh && nb > 8) m |= (uint64_t)p[8] << (64 - sh);
  return m & keep;
}

static inline v2d vload(const double *p) {
  v2d x;
  memcpy(&x, p, sizeof x);
  return x;
}

static inline v2u uload(const void *p) {
  v2u x;
  memcpy(&x, p, sizeof x);
  return x;
}

static inline v2d vsel(v2u k, v2d a, v2d b) { return (v2d)(((v2u)a & k) | ((v2u)b & ~k)); }

/* ---------------------------------------------------------------------------
** Integers (int64). The block functions are always_inline, so that `full`
** (no null in the block) is a constant and the lanes stay in registers.
*/
#define ALWAYS static inline __attribute__((always_inline))

/* Sum: u = (v ^ 2^63) & mask, unsigned; its low and high halves in lanes. */
#define I64_SUM_STEP(k, off) do { \
    v2u u_ = uload(p + (off)) ^ bias; \
    if (!full) u_ &= uload(mk + (off)); \
    lo[k] += u_ & lo32; \
    hi[k] += u_ >> 32; \
  } while (0)

ALWAYS void i64_sum_block(const int64_t *v, uint64_t m, int full, tl_i128 *sum) {
  const v2u bias = { BIAS, BIAS }, lo32 = { LO32, LO32 };
  v2u lo[2] = { { 0, 0 }, { 0, 0 } }, hi[2] = { { 0, 0 }, { 0, 0 } };
  for (int q = 0; q < 8; q++) {
    const int64_t *p = v + 8 * q;
    const uint64_t *mk = MASKS[(m >> (8 * q)) & 255];
    I64_SUM_STEP(0, 0); I64_SUM_STEP(1, 2); I64_SUM_STEP(0, 4); I64_SUM_STEP(1, 6);
  }
  v2u l = lo[0] + lo[1], h = hi[0] + hi[1];
  int64_t n = full ? 64 : __builtin_popcountll(m);
  *sum += ((tl_i128)(h[0] + h[1]) << 32) + (tl_i128)(l[0] + l[1]) - ((tl_i128)n << 63);
}

/* Least and greatest: nulls masked to INT64_MAX / INT64_MIN. */
#define I64_MM_STEP(k, off) do { \
    uint64_t u_ = (uint64_t)p[off], k_ = full ? ~(uint64_t)0 : mk[off]; \
    int64_t l_ = (int64_t)((u_ & k_) | ((uint64_t)INT64_MAX & ~k_)); \
    int64_t h_ = (int64_t)((u_ & k_) | ((uint64_t)INT64_MIN & ~k_)); \
    mn##k = l_ < mn##k ? l_ : mn##k; \
    mx##k = h_ > mx##k ? h_ : mx##k; \
  } while (0)

ALWAYS void i64_mm_block(const int64_t *v, uint64_t m, int full, int64_t *mn, int64_t *mx) {
  int64_t mn0 = mn[0], mn1 = mn[1], mn2 = mn[2], mn3 = mn[3];
  int64_t mx0 = mx[0], mx1 = mx[1], mx2 = mx[2], mx3 = mx[3];
  for (int q = 0; q < 8; q++) {
    const int64_t *p = v + 8 * q;
    const uint64_t *mk = MASKS[(m >> (8 * q)) & 255];
    I64_MM_STEP(0, 0); I64_MM_STEP(1, 1); I64_MM_STEP(2, 2); I64_MM_STEP(3, 3);
    I64_MM_STEP(0, 4); I64_MM_STEP(1, 5); I64_MM_STEP(2, 6); I64_MM_STEP(3, 7);
  }
  mn[0] = mn0; mn[1] = mn1; mn[2] = mn2; mn[3] = mn3;
  mx[0] = mx0; mx[1] = mx1; mx[2] = mx2; mx[3] = mx3;
}

ALWAYS void i64_block(const int64_t *v, uint64_t m, int full, unsigned want, tl_i128 *sum,
                      int64_t *mn, int64_t *mx) {
  if (want & CS_SUM) i64_sum_block(v, m, full, sum);
  if (want & (CS_MIN | CS_MAX)) i64_mm_block(v, m, full, mn, mx);
}

static void i64_range(const int64_t *v, const uint8_t *vb, int64_t a, int64_t b, tl_colsum *cs) {
  tl_i128 sum = 0;
  int64_t mn[4] = { INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX };
  int64_t mx[4] = { INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN };
  unsigned want = cs->want;
  int64_t n = 0, i = a;
  for (; i + 64 <= b; i += 64) {
    uint64_t m = bits_at(vb, i, 64);
    if (i + (PF_AHEAD + 1) * 64 <= b) prefetch_block(v + i + PF_AHEAD * 64);
    if (m == ~(uint64_t)0) {
      n += 64;
      i64_block(v + i, m, 1, want, &sum, mn, mx);
    } else if (m) {
      n += __builtin_popcountll(m);
      i64_block(v + i, m, 0, want, &sum, mn, mx);
    }
  }
  if (i < b) {   /* the last rows, padded to a block */
    int64_t tmp[64] = { 0 };
    memcpy(tmp, v + i, (size_t)(b - i) * sizeof *tmp);
    uint64_t m = bits_at(vb, i, b - i);
    n += __builtin_popcountll(m);
    i64_block(tmp, m, 0, want, &sum, mn, mx);
  }
  for (int r = 1; r < 4; r++) {
    mn[0] = mn[r] < mn[0] ? mn[r] : mn[0];
    mx[0] = mx[r] > mx[0] ? mx[r] : mx[0];
  }
  cs->n = n;
  cs->is = sum;
  cs->imin = mn[0];
  cs->imax = mx[0];
}

/* ---------------------------------------------------------------------------
** Dates (int32): least and greatest
*/
static void i32_block(const int32_t *v, uint64_t m, int32_t *mn, int32_t *mx) {
  for (int q = 0; q < 16; q++) {
    for (int r = 0; r < 4; r++) {
      int j = 4 * q + r;
      uint32_t k = 0u - (uint32_t)((m >> j) & 1), u = (uint32_t)v[j];
      int32_t lo = (int32_t)((u & k) | ((uint32_t)INT32_MAX & ~k));
      int32_t hi = (int32_t)((u & k) | ((uint32_t)INT32_MIN & ~k));
      mn[r] = lo < mn[r] ? lo : mn[r];
      mx[r] = hi > mx[r] ? hi : mx[r];
    }
  }
}

static void i32_range(const int32_t *v, const uint8_t *vb, int64_t a, int64_t b, tl_colsum *cs) {
  int32_t mn[4] = { INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX };
  int32_t mx[4] = { INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN };
  int64_t n = 0;
  for (int64_t i = a; i < b; i += 64) {
    int64_t len = b - i < 64 ? b - i : 64;
    uint64_t m = bits_at(vb, i, len);
    n += __builtin_popcountll(m);
    if (!(cs->want & (CS_MIN | CS_MAX)) || !m) continue;
    if (len == 64) { i32_block(v + i, m, mn, mx); continue; }
    int32_t tmp[64] = { 0 };
    memcpy(tmp, v + i, (size_t)len * sizeof *tmp);
    i32_block(tmp, m, mn, mx);
  }
  for (int r = 1; r < 4; r++) {
    mn[0] = mn[r] < mn[0] ? mn[r] : mn[0];
    mx[0] = mx[r] > mx[0] ? mx[r] : mx[0];
  }
  cs->n = n;
  cs->imin = mn[0];
  cs->imax = mx[0];
}

/* ---------------------------------------------------------------------------
** Floats
*/
typedef struct facc {
  v2d s[4], c[4];          /* Neumaier's sums: lanes 2k and 2k + 1 in s[k], c[k] */
  v2d mn[2], mx[2];        /* least and greatest numbers (NaN left out) */
  v2u nan, num;            /* all ones in a lane that saw a NaN / a number */
} facc;

/* Sum: nulls masked to +0, which changes no sum (a sum starts at +0 and
** so is never -0) and adds no error. */
#define F64_SUM_STEP(k, off) do { \
    v2d y_ = vload(p + (off)); \
    if (!full) y_ = (v2d)((v2u)y_ & uload(mk + (off))); \
    v2d t_ = s##k + y_, bp_ = t_ - s##k; \
    c##k += (s##k - (t_ - bp_)) + (y_ - bp_); \
    s##k = t_; \
  } while (0)

ALWAYS void f64_sum_block(const double *v, uint64_t m, int full, facc *A) {
  v2d s0 = A->s[0], s1 = A->s[1], s2 = A->s[2], s3 = A->s[3];
  v2d c0 = A->c[0], c1 = A->c[1], c2 = A->c[2], c3 = A->c[3];
  for (int q = 0; q < 8; q++) {
    const double *p = v + 8 * q;
    const uint64_t *mk = MASKS[(m >> (8 * q)) & 255];
    F64_SUM_STEP(0, 0); F64_SUM_STEP(1, 2); F64_SUM_STEP(2, 4); F64_SUM_STEP(3, 6);
  }
  A->s[0] = s0; A->s[1] = s1; A->s[2] = s2; A->s[3] = s3;
  A->c[0] = c0; A->c[1] = c1; A->c[2] = c2; A->c[3] = c3;
}

/* Least and greatest: NaN and nulls masked to +inf for the one, -inf for
** the other; the lanes note whether they saw a NaN or a number. */
#define F64_MM_STEP(k, off) do { \
    v2d x_ = vload(p + (off)); \
    v2u keep_ = full ? ones : uload(mk + (off)), isnum_ = (v2u)(x_ == x_) & keep_; \
    nan |= keep_ & ~isnum_; \
    num |= isnum_; \
    v2d l_ = vsel(isnum_, x_, pinf), h_ = vsel(isnum_, x_, -pinf); \
    mn##k = vsel((v2u)(l_ < mn##k), l_, mn##k); \
    mx##k = vsel((v2u)(h_ > mx##k), h_, mx##k); \
  } while (0)

ALWAYS void f64_mm_block(const double *v, uint64_t m, int full, facc *A) {
  const v2d pinf = { INFINITY, INFINITY };
  const v2u ones = { ~(uint64_t)0, ~(uint64_t)0 };
  v2d mn0 = A->mn[0], mn1 = A->mn[1], mx0 = A->mx[0], mx1 = A->mx[1];
  v2u nan = A->nan, num = A->num;
  for (int q = 0; q < 8; q++) {
    const double *p = v + 8 * q;
    const uint64_t *mk = MASKS[(m >> (8 * q)) & 255];
    F64_MM_STEP(0, 0); F64_MM_STEP(1, 2); F64_MM_STEP(0, 4); F64_MM_STEP(1, 6);
  }
  A->mn[0] = mn0; A->mn[1] = mn1; A->mx[0] = mx0; A->mx[1] = mx1;
  A->nan = nan; A->num = num;
}

ALWAYS void f64_block(const double *v, uint64_t m, int full, unsigned want, facc *A) {
  if (want & CS_SUM) f64_sum_block(v, m, full, A);
  if (want & (CS_MIN | CS_MAX)) f64_mm_block(v, m, full, A);
}

/* The value of the first valid row of [a, b) that equals m (NaN m: the
** first NaN): of two zeros, the sign of the one that comes first, as a scan
** row by row keeps it. */
static double first_equal(const double *v, const uint8_t *vb, int64_t a, int64_t b, double m) {
  if (m != 0 && m == m) return m;
  for (int64_t i = a; i < b; i++)
    if ((!vb || TL_BIT_GET(vb, i)) && (m == m ? v[i] == m : v[i] != v[i])) return v[i];
  return m;
}

static void f64_finish(facc *A, const double *v, const uint8_t *vb, int64_t a, int64_t b,
                       tl_colsum *cs) {
  double s = 0, c = 0;
  for (int k = 0; k < 4; k++)
    for (int l = 0; l < 2; l++) tl_sum_merge(&s, &c, A->s[k][l], A->c[k][l]);
  if (!isfinite(s)) c = 0;   /* the lanes' errors no longer count */
  cs->fs = s;
  cs->fc = c;
  if (!(cs->want & (CS_MIN | CS_MAX)) || cs->n == 0) return;
  double mn = INFINITY, mx = -INFINITY;
  for (int k = 0; k < 2; k++)
    for (int l = 0; l < 2; l++) {
      mn = A->mn[k][l] < mn ? A->mn[k][l] : mn;
      mx = A->mx[k][l] > mx ? A->mx[k][l] : mx;
    }
  int nan = (A->nan[0] | A->nan[1]) != 0, num = (A->num[0] | A->num[1]) != 0;
  /* NaN is greater than every number: max takes it, min only when there
  ** is nothing else */
  cs->dmin = first_equal(v, vb, a, b, num ? mn : NAN);
  cs->dmax = first_equal(v, vb, a, b, nan ? NAN : mx);
}

static void f64_range(const double *v, const uint8_t *vb, int64_t a, int64_t b, tl_colsum *cs) {
  facc A;
  memset(&A, 0, sizeof A);
  for (int k = 0; k < 2; k++) {
    A.mn[k] = (v2d){ INFINITY, INFINITY };
    A.mx[k] = (v2d){ -INFINITY, -INFINITY };
  }
  unsigned want = cs->want;
  int64_t n = 0, i = a;
  for (; i + 64 <= b; i += 64) {
    uint64_t m = bits_at(vb, i, 64);
    if (i + (PF_AHEAD + 1) * 64 <= b) prefetch_block(v + i + PF_AHEAD * 64);
    if (m == ~(uint64_t)0) {
      n += 64;
      f64_block(v + i, m, 1, want, &A);
    } else if (m) {
      n += __builtin_popcountll(m);
      f64_block(v + i, m, 0, want, &A);
    }
  }
  if (i < b) {   /* the last rows, padded to a block */
    double tmp[64] = { 0 };
    memcpy(tmp, v + i, (size_t)(b - i) * sizeof *tmp);
    uint64_t m = bits_at(vb, i, b - i);
    n += __builtin_popcountll(m);
    f64_block(tmp, m, 0, want, &A);
  }
  cs->n = n;
  f64_finish(&A, v, vb, a, b, cs);
}

/* ---------------------------------------------------------------------------
** The summary
*/
void tl_agg_colsum(const tl_column *x, int64_t a, int64_t b, tl_colsum *cs) {
  cs->n = 0;
  cs->is = 0;
  cs->fs = cs->fc = 0;
  cs->imin = cs->imax = 0;
  cs->dmin = cs->dmax = 0;
  if (a >= b) return;
  const uint8_t *vb = x->validity;
  switch (x->type) {
    case TL_FLOAT: f64_range(x->values, vb, a, b, cs); break;
    case TL_DATE: i32_range(x->values, vb, a, b, cs); break;
    default: i64_range(x->values, vb, a, b, cs);
  }
}
