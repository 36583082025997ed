/*
** csv_count.c -- the records of a CSV file found without reading a field:
** counted, for a scan that needs no column (count()), and the first record
** start after each cut, for the morsels of any other scan.
**
** The data after the header is cut into spans at any byte, counted in
** parallel 64 bytes at a time. A record starts at a byte that is not a
** line end and follows a line end outside quotes; outside quotes is the
** parity of the '"' bytes before. A span does not know the parity at its
** start, so it counts under both guesses (one is the other's complement),
** and the spans are then chained in order from the data's start, which is
** outside quotes.
**
** The parity is what the tokenizer reads only when every '"' belongs to a
** quoted field: one that opens a field must follow a separator, a line end
** or a '"' (a doubled quote), and one that closes a field must be followed
** by a separator, a line end or a '"'. A span notes whether it saw one that
** does not, under each guess; then, or when the input ends inside quotes,
** the count is not exact and the caller reads the file with the tokenizer.
**
** The spans are read with pread into a buffer per worker, reused, so that
** neither the file's pages nor fresh buffers count in the memory of the
** process. (Mapping the file instead, its pages dropped behind, cost the
** same CPU time on a 850 MB file, 0.5 s user + sys on 2 threads, with 12000
** page faults and 25 MB more resident.)
*/
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#include "base/alloc.h"
#include "base/error.h"
#include "base/pool.h"
#include "io/csv.h"
#include "source.h"
#include "testing.h"

#define SPAN ((int64_t)8 << 20)
#define PIECE ((int64_t)256 << 10)

/* The classes of 64 bytes: line ends (LF or CR), CRs, separators, quotes
** (bit i: byte i). */
typedef struct masks { uint64_t e, r, s, q; } masks;

static inline masks classify_scalar(const char *p, char sep) {
  masks m = { 0, 0, 0, 0 };
  for (int i = 0; i < 64; i++) {
    char c = p[i];
    m.e |= (uint64_t)(c == '\n' || c == '\r') << i;
    m.r |= (uint64_t)(c == '\r') << i;
    m.s |= (uint64_t)(c == sep) << i;
    m.q |= (uint64_t)(c == '"') << i;
  }
  return m;
}

#ifdef HAVE_X86
__attribute__((target("avx2")))
static inline masks classify_avx2(const char *p, char sep) {
  const __m256i vs = _mm256_set1_epi8(sep), vl = _mm256_set1_epi8('\n');
  const __m256i vc = _mm256_set1_epi8('\r'), vq = _mm256_set1_epi8('"');
  masks m;
  __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
  __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
  __m256i ra = _mm256_cmpeq_epi8(a, vc), rb = _mm256_cmpeq_epi8(b, vc);
  __m256i ea = _mm256_or_si256(_mm256_cmpeq_epi8(a, vl), ra);
  __m256i eb = _mm256_or_si256(_mm256_cmpeq_epi8(b, vl), rb);
  m.r = (uint32_t)_mm256_movemask_epi8(ra) | (uint64_t)(uint32_t)_mm256_movemask_epi8(rb) << 32;
  m.e = (uint32_t)_mm256_movemask_epi8(ea) | (uint64_t)(uint32_t)_mm256_movemask_epi8(eb) << 32;
  m.s = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vs)) |
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vs)) << 32;
  m.q = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vq)) |
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vq)) << 32;
  return m;
}

__attribute__((target("sse2")))
static inline masks classify_sse2(const char *p, char sep) {
  const __m128i vs = _mm_set1_epi8(sep), vl = _mm_set1_epi8('\n');
  const __m128i vc = _mm_set1_epi8('\r'), vq = _mm_set1_epi8('"');
  masks m = { 0, 0, 0, 0 };
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    __m128i r = _mm_cmpeq_epi8(v, vc);
    __m128i e = _mm_or_si128(_mm_cmpeq_epi8(v, vl), r);
    m.r |= (uint64_t)(uint16_t)_mm_movemask_epi8(r) << (16 * k);
    m.e |= (uint64_t)(uint16_t)_mm_movemask_epi8(e) << (16 * k);
    m.s |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vs)) << (16 * k);
    m.q |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * k);
  }
  return m;
}
#endif

/* Bit i: the parity of the set bits 0..i of x. */
static inline uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

/* A span's walk: the state after its last byte, under the guess "even"
** (g = 0: outside quotes at the span's start); the guess "odd" (g = 1) is
** its complement. Each cN is the bit the previous byte carries over. */
typedef struct walk {
  uint64_t odd;            /* quotes so far under guess 0: all ones when odd */
  uint64_t c_bq;           /* the previous byte was a separator, line end or quote */
  uint64_t c_eol[2];       /* ... a line end outside quotes */
  uint64_t c_close[2];     /* ... a quote that closed a field */
  uint64_t c_cr;           /* ... a CR */
  int64_t at;              /* the offset of the next block in the file */
  int64_t recs[2];         /* record starts */
  int bad[2];              /* a quote that does not belong to a quoted field */
  int64_t lines;           /* line ends (LF, CRLF counted at its CR, lone CR) */
  int64_t first[2];        /* the first record start; -1: none yet */
  int64_t first_line[2];   /* the line ends before it */
  /* The field counts: a record ends at a line end outside quotes that
  ** follows a byte that is no line end; its separators outside quotes, all
  ** after the line end before it, must be want. */
  int64_t want, maxlen;    /* separators per record; its bytes at most */
  uint64_t c_e;            /* the previous byte was a line end */
  int64_t run[2];          /* separators since the last line end outside quotes */
  int64_t last_e[2];       /* that line end's offset (the span's start - 1: none) */
  int seen[2];             /* a line end outside quotes in the span */
  int head[2];             /* the span's first record ends in it, begun before */
  int64_t head_s[2], head_len[2];   /* its separators and bytes in the span */
  int wrong[2];            /* a record in the span with another count, or too long */
} walk;

/* The records that end in the block (bits R of the line ends outside
** quotes E), their separators outside quotes S: ~1 iteration a record. */
static inline __attribute__((always_inline)) void check_records(walk *w, int g, uint64_t E,
                                                                uint64_t R, uint64_t S) {
  int64_t run = w->run[g];
  int used = 0;
  while (R) {
    int i = __builtin_ctzll(R);
    uint64_t below = ((uint64_t)1 << i) - 1, lower = E & below;
    int pc = __builtin_popcountll(S & below);
    int64_t s = run + pc - used;
    run = 0;
    used = pc;
    if (!lower && !w->seen[g]) {   /* begun in an earlier span: chain() checks it */
      w->head[g] = 1;
      w->head_s[g] = s;
      w->head_len[g] = w->at + i - w->last_e[g] - 1;
    } else {
      int64_t len = lower ? (w->maxlen < 64 ? i - (63 - __builtin_clzll(lower)) - 1 : 0)
                          : w->at + i - w->last_e[g] - 1;
      w->wrong[g] |= (s != w->want) | (len > w->maxlen);
    }
    w->seen[g] = 1;
    R &= R - 1;
  }
  w->run[g] = run + __builtin_popcountll(S) - used;
  if (E) {
    w->last_e[g] = w->at + 63 - __builtin_clzll(E);
    w->seen[g] = 1;
  }
}

/* Folds the 64 bytes (or `n` < 64 at the end: the masks hold no bits past
** them) whose classes are m into w. */
static inline __attribute__((always_inline)) void step(walk *w, masks m, int n) {
  uint64_t valid = n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
  uint64_t in0 = prefix_xor(m.q) ^ w->odd;    /* under guess 0: inside quotes (a quote:
                                              ** it opened one) */
  uint64_t bq = m.e | m.s | m.q, prev_bq = bq << 1 | w->c_bq;
  uint64_t open[2] = { m.q & in0, m.q & ~in0 };   /* a quote opening a field */
  uint64_t eol[2] = { m.e & ~in0, m.e & in0 };    /* a line end outside quotes */
  uint64_t ends = m.r | (m.e & ~m.r & ~(m.r << 1 | w->c_cr));   /* line ends: CRLF at CR */
  uint64_t not_after_e = ~(m.e << 1 | w->c_e);
  check_records(w, 0, eol[0], eol[0] & not_after_e, m.s & ~in0);
  check_records(w, 1, eol[1], eol[1] & not_after_e, m.s & in0);
  for (int g = 0; g < 2; g++) {
    uint64_t close = open[1 - g];
    uint64_t start = (eol[g] << 1 | w->c_eol[g]) & ~m.e & valid;
    if (start && w->first[g] < 0) {
      int i = __builtin_ctzll(start);
      w->first[g] = w->at + i;
      w->first_line[g] = w->lines + __builtin_popcountll(ends & (((uint64_t)1 << i) - 1));
    }
    w->recs[g] += __builtin_popcountll(start);
    uint64_t stray = (open[g] & ~prev_bq) | (~bq & (close << 1 | w->c_close[g]));
    w->bad[g] |= (stray & valid) != 0;
    w->c_eol[g] = n >= 64 ? eol[g] >> 63 : (eol[g] >> (n - 1)) & 1;
    w->c_close[g] = n >= 64 ? close >> 63 : (close >> (n - 1)) & 1;
  }
  w->c_bq = n >= 64 ? bq >> 63 : (bq >> (n - 1)) & 1;
  w->c_cr = n >= 64 ? m.r >> 63 : (m.r >> (n - 1)) & 1;
  w->c_e = n >= 64 ? m.e >> 63 : (m.e >> (n - 1)) & 1;
  w->lines += __builtin_popcountll(ends & valid);
  w->at += n;
  uint64_t last = n >= 64 ? in0 >> 63 : (in0 >> (n - 1)) & 1;
  w->odd = last ? ~(uint64_t)0 : 0;
}

typedef void (*walk_fn)(walk *w, const char *p, int64_t len, char sep);

typedef struct counter {
  const char *path;
  int fd;
  char sep;
  int64_t want, maxlen;    /* separators per record ; its bytes at most */
  walk_fn walk;
  int64_t from, to;        /* the data records' bytes */
  int64_t line0;           /* the line at `from` */
  int64_t span, piece;
  int64_t nspans;
  walk *w;                 /* per span */
  char **buf;              /* per worker: `piece` bytes and a block's padding */
  tl_status st;            /* the first error (errno in eno) */
  int eno;
} counter;

/* The walk of len bytes at p; each kernel's copy is compiled for its
** instructions (AVX2 with POPCNT, whose counts would otherwise be calls). */
#define WALK_BODY(classify)                                         \
  walk lw = *wp, *w = &lw;   /* in registers: p's bytes alias no local */ \
  int64_t k = 0;                                                    \
  for (; k + 64 <= len; k += 64) step(w, classify(p + k, sep), 64); \
  if (k < len) {                                                    \
    char pad[64];                                                   \
    memset(pad, 0, sizeof pad);                                     \
    memcpy(pad, p + k, (size_t)(len - k));                          \
    masks m = classify(pad, sep);                                   \
    uint64_t keep = ((uint64_t)1 << (len - k)) - 1;                 \
    m.e &= keep, m.r &= keep, m.s &= keep, m.q &= keep;             \
    step(w, m, (int)(len - k));                                     \
  }                                                                 \
  *wp = lw;

static void walk_scalar(walk *wp, const char *p, int64_t len, char sep) {
  WALK_BODY(classify_scalar)
}

#ifdef HAVE_X86
__attribute__((target("sse2")))
static void walk_sse2(walk *wp, const char *p, int64_t len, char sep) { WALK_BODY(classify_sse2) }

__attribute__((target("avx2,popcnt")))
static void walk_avx2(walk *wp, const char *p, int64_t len, char sep) { WALK_BODY(classify_avx2) }
#endif

static walk_fn pick(void) {
#ifdef HAVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return walk_avx2;
  if (__builtin_cpu_supports("sse2")) return walk_sse2;
#endif
  return walk_scalar;
}

static void count_span(void *ctx, int64_t task, int worker) {
  counter *c = ctx;
  walk *w = &c->w[task];
  char *buf = c->buf[worker];
  int64_t a = c->from + task * c->span, b = a + c->span < c->to ? a + c->span : c->to;
  memset(w, 0, sizeof *w);
  w->at = a;
  w->first[0] = w->first[1] = -1;
  w->want = c->want;
  w->maxlen = c->maxlen;
  w->last_e[0] = w->last_e[1] = a - 1;
  if (a == c->from) {      /* the data's start: a line start outside quotes */
    w->c_e = 1;
    w->c_bq = 1;
    w->c_eol[0] = 1;
  } else {
    char prev;
    if (pread(c->fd, &prev, 1, (off_t)(a - 1)) != 1) {
      __atomic_store_n(&c->eno, errno ? errno : EIO, __ATOMIC_RELAXED);
      return;
    }
    int e = prev == '\n' || prev == '\r', q = prev == '"';
    w->c_bq = (uint64_t)(e || q || prev == c->sep);
    w->c_cr = (uint64_t)(prev == '\r');
    w->c_e = (uint64_t)e;
    w->c_eol[0] = (uint64_t)e;      /* guess 1: the line end was inside quotes */
    w->c_close[0] = (uint64_t)q;    /* guess 0: outside after it, so it closed */
  }
  while (a < b) {
    if (tl_interrupted() || __atomic_load_n(&c->eno, __ATOMIC_RELAXED)) return;
    int64_t want = b - a < c->piece ? b - a : c->piece;
    ssize_t k = pread(c->fd, buf, (size_t)want, (off_t)a);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      __atomic_store_n(&c->eno, k < 0 ? errno : EIO, __ATOMIC_RELAXED);
      return;
    }
    c->walk(w, buf, k, c->sep);
    a += k;
  }
}

/* The spans chained from the data's start; in cuts (when not NULL) the
** first record start of each span that has one. The count is not exact
** when a record's field count or length is not read_csv's. */
static void chain(const counter *c, int64_t *records, tl_csv_span_cut *cuts, int64_t *ncuts,
                  int *exact) {
  int g = 0, bad = 0;
  int64_t n = 0, lines = c->line0, m = 0;
  int64_t run = 0, len = 0;   /* the record begun before the span: separators, bytes */
  for (int64_t k = 0; k < c->nspans; k++) {
    const walk *w = &c->w[k];
    if (cuts && w->first[g] >= 0)
      cuts[m++] = (tl_csv_span_cut){ w->first[g], lines + w->first_line[g], n + 1 };
    n += w->recs[g];
    lines += w->lines;
    bad |= w->bad[g] | w->wrong[g];
    if (w->head[g]) bad |= run + w->head_s[g] != c->want || len + w->head_len[g] > c->maxlen;
    int64_t size = k + 1 < c->nspans ? c->span : c->to - c->from - k * c->span;
    if (w->seen[g]) run = 0, len = 0;
    run += w->run[g];
    len += c->from + k * c->span + size - 1 - w->last_e[g];
    g ^= (int)(w->odd & 1);
  }
  if (len > 0) bad |= run != c->want || len > c->maxlen;   /* no line end after the last */
  *records = n;
  if (ncuts) *ncuts = m;
  *exact = !bad && g == 0;
}

/* Where the data records start, and the separator, from the header. */
static tl_status data_start(counter *c, const tl_csv_options *o, int64_t size, tl_error *err) {
  void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, c->fd, 0);
  if (m == MAP_FAILED)
    return tl_error_set(err, TL_EIO, "scan: cannot map '%s': %s", c->path, strerror(errno));
  size_t start = 0;
  int64_t line = 0;
  tl_status st = csv_data_start(m, (size_t)size, c->path, o, &start, &line, &c->sep, err);
  munmap(m, (size_t)size);
  c->from = (int64_t)start;
  c->line0 = line;
  return st;
}

static tl_status count_file(counter *c, const tl_csv_options *o, int64_t span, int64_t *start,
                            int64_t *records, tl_csv_span_cut **cuts, int64_t *ncuts, int *exact,
                            tl_error *err) {
  struct stat sb;
  if (fstat(c->fd, &sb) != 0)
    return tl_error_set(err, TL_EIO, "scan: cannot read '%s': %s", c->path, strerror(errno));
  c->to = (int64_t)sb.st_size;
  if (c->to == 0) { *exact = 0; return TL_OK; }   /* the reader says what is wrong */
  TL_TRY(data_start(c, o, c->to, err));
  *start = c->from;
  int64_t piece = tl_testing_get(TL_KNOB_CSV_CHUNK);
  c->span = span > 0 ? span : SPAN;
  c->piece = piece > 0 && piece < PIECE ? piece : PIECE;
  c->nspans = c->to > c->from ? (c->to - c->from + c->span - 1) / c->span : 0;
  c->walk = pick();
  int nw = tl_get_threads();
  c->w = tl_calloc((size_t)c->nspans + 1, sizeof *c->w);
  c->buf = tl_calloc((size_t)nw, sizeof *c->buf);
  if (!c->w || !c->buf) return tl_error_oom(err, "scan");
  for (int k = 0; k < nw; k++)
    if (!(c->buf[k] = tl_alloc((size_t)c->piece))) return tl_error_oom(err, "scan");
  tl_parallel_for(c->nspans, count_span, c);
  if (tl_interrupted()) return tl_error_interrupted(err, "scan");
  if (c->eno)
    return tl_error_set(err, TL_EIO, "scan: cannot read '%s': %s", c->path, strerror(c->eno));
  if (cuts && !(*cuts = tl_calloc((size_t)c->nspans + 1, sizeof **cuts)))
    return tl_error_oom(err, "scan");
  chain(c, records, cuts ? *cuts : NULL, ncuts, exact);
  return TL_OK;
}

tl_status tl_csv_find_records(const char *path, const tl_csv_options *o, int ncol,
                              int64_t span, int64_t *start, int64_t *records, tl_csv_span_cut **cuts,
                              int64_t *ncuts, int *exact, tl_error *err) {
  counter c;
  memset(&c, 0, sizeof c);
  c.path = path;
  c.want = ncol - 1;
  c.maxlen = o->max_field_size ? (int64_t)o->max_field_size : (int64_t)DEFAULT_MAX_FIELD;
  *records = 0;
  *exact = 0;
  *start = 0;
  if (cuts) *cuts = NULL, *ncuts = 0;
  if ((c.fd = open(path, O_RDONLY)) < 0)
    return tl_error_set(err, TL_EIO, "scan: cannot open '%s': %s", path, strerror(errno));
  posix_fadvise(c.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  tl_status st = count_file(&c, o, span, start, records, cuts, ncuts, exact, err);
  if (cuts && (st != TL_OK || !*exact)) tl_free(*cuts), *cuts = NULL, *ncuts = 0;
  int nw = tl_get_threads();
  for (int k = 0; c.buf && k < nw; k++) tl_free(c.buf[k]);
  tl_free(c.buf);
  tl_free(c.w);
  close(c.fd);
  return st;
}
