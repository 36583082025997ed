/*
** csv_scan.c -- the structural bytes of CSV text, 64 bytes at a time.
**
** The tokenizer asks where the next separator, line end or quote is. A
** kernel answers for a block of 64 bytes at once with two bit masks (bit i
** for byte i): one of separators and line ends, one of quotes. The
** tokenizer keeps the last block's masks in its reader and finds each
** field's end by a shift and a count of trailing zeros, so most fields cost
** no look at their bytes at all.
**
** Three kernels give the same masks: AVX2 (two 32-byte compares per
** class), SSE2 (four 16-byte ones) and a byte loop. The best one the CPU
** has is chosen once, at the first block; AVX2 is compiled for its
** functions alone (a target attribute), so the library still runs on any
** x86-64. A test can force a kernel (csv_scan_force) to check that they
** agree.
*/
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#include "csv.h"

/* Each kernel also says whether a byte of the block is not ASCII. */
typedef int (*block_fn)(const char *p, char sep, uint64_t *sm, uint64_t *qm);

/* The portable kernel: a byte at a time, with no branch per byte. */
static int block_scalar(const char *p, char sep, uint64_t *sm, uint64_t *qm) {
  uint64_t s = 0, q = 0;
  unsigned high = 0;
  for (int i = 0; i < 64; i++) {
    char c = p[i];
    s |= (uint64_t)(c == sep || c == '\n' || c == '\r') << i;
    q |= (uint64_t)(c == '"') << i;
    high |= (unsigned char)c & 0x80u;
  }
  *sm = s;
  *qm = q;
  return high != 0;
}

#ifdef HAVE_X86
__attribute__((target("sse2")))
static int block_sse2(const char *p, char sep, uint64_t *sm, uint64_t *qm) {
  const __m128i vs = _mm_set1_epi8(sep), vl = _mm_set1_epi8('\n');
  const __m128i vc = _mm_set1_epi8('\r'), vq = _mm_set1_epi8('"');
  uint64_t s = 0, q = 0;
  int high = 0;
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vs), _mm_cmpeq_epi8(v, vl)),
                               _mm_cmpeq_epi8(v, vc));
    s |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * k);
    q |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * k);
    high |= _mm_movemask_epi8(v);
  }
  *sm = s;
  *qm = q;
  return high != 0;
}

__attribute__((target("avx2")))
static uint32_t stops32(__m256i v, __m256i vs, __m256i vl, __m256i vc) {
  __m256i hit = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, vs), _mm256_cmpeq_epi8(v, vl)),
                                _mm256_cmpeq_epi8(v, vc));
  return (uint32_t)_mm256_movemask_epi8(hit);
}

__attribute__((target("avx2")))
static int block_avx2(const char *p, char sep, uint64_t *sm, uint64_t *qm) {
  const __m256i vs = _mm256_set1_epi8(sep), vl = _mm256_set1_epi8('\n');
  const __m256i vc = _mm256_set1_epi8('\r'), vq = _mm256_set1_epi8('"');
  __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
  __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
  *sm = stops32(a, vs, vl, vc) | (uint64_t)stops32(b, vs, vl, vc) << 32;
  *qm = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vq)) |
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vq)) << 32;
  return (_mm256_movemask_epi8(a) | _mm256_movemask_epi8(b)) != 0;
}
#endif

static block_fn kernel;   /* chosen at the first block, or forced */

static block_fn best(void) {
#ifdef HAVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return block_avx2;
  if (__builtin_cpu_supports("sse2")) return block_sse2;
#endif
  return block_scalar;
}

int csv_scan_force(int kind) {
  block_fn f = NULL;
  switch (kind) {
    case CSV_SCAN_AUTO: f = best(); break;
    case CSV_SCAN_SCALAR: f = block_scalar; break;
#ifdef HAVE_X86
    case CSV_SCAN_SSE2:
      __builtin_cpu_init();
      if (__builtin_cpu_supports("sse2")) f = block_sse2;
      break;
    case CSV_SCAN_AVX2:
      __builtin_cpu_init();
      if (__builtin_cpu_supports("avx2")) f = block_avx2;
      break;
#endif
    default: break;
  }
  if (!f) return 0;
  __atomic_store_n(&kernel, f, __ATOMIC_RELAXED);
  return 1;
}

/* Fills r->sm and r->qm for the block at p: 64 bytes, fewer at the end of
** the input (then copied out, so that no load reads past it, and the masks
** have no bits past it); moves r->high past the block when a byte of it is
** not ASCII. Any thread may choose the kernel: they all choose the same. */
void csv_block(reader *r, const char *p) {
  block_fn f = __atomic_load_n(&kernel, __ATOMIC_RELAXED);
  if (!f) {
    f = best();
    __atomic_store_n(&kernel, f, __ATOMIC_RELAXED);
  }
  size_t n = (size_t)(r->end - p);
  r->blk = p;
  if (n >= 64) {
    if (f(p, r->sep, &r->sm, &r->qm) && (!r->high || r->high < p + 64)) r->high = p + 64;
    return;
  }
  char pad[64];
  memset(pad, 0, sizeof pad);
  memcpy(pad, p, n);
  if (f(pad, r->sep, &r->sm, &r->qm) && (!r->high || r->high < p + n)) r->high = p + n;
  uint64_t keep = n ? (~(uint64_t)0 >> (64 - n)) : 0;
  r->sm &= keep;
  r->qm &= keep;
}
