/*
** csv_read.c -- the CSV tokenizer, type inference and the two passes.
**
** Pass 1 (csv_scan_job) reads each chunk's records, checks them, narrows
** each column's type and keeps the values; the chunks' findings are merged
** in file order; pass 2 (convert_task) places the kept values into the
** columns, reading the text again only for the columns it could not keep.
** csv.c drives them, csv_chunk.c splits the input; see csv.c's opening
** comment for the design.
*/
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/datetime.h"
#include "base/parse.h"
#include "base/error.h"
#include "base/pool.h"
#include "csv.h"

/* ---------------------------------------------------------------------------
** Tokenizer
*/

/* A failure of the tokenizer, in the record being read. */
static tl_status fail_at(reader *r, tl_status code, int64_t line, int fieldno,
                         const char *what, const char *where) {
  return csv_fail_in(r, code, line, r->nrec, fieldno, what, where, 0);
}

static tl_status push_field(reader *r, const field *fd) {
  if (r->nf == r->capf) {
    int ncap = r->capf ? r->capf * 2 : 64;
    if (ncap > MAX_COLUMNS) ncap = MAX_COLUMNS;
    if (r->nf >= ncap)
      return fail_at(r, TL_ELIMIT, r->rec_line, 0, "more than 100000 fields in a record",
                     r->rec_start);
    field *nfp = tl_realloc(r->f, (size_t)ncap * sizeof *nfp);
    if (!nfp) return tl_error_oom(r->err, "read_csv");
    r->f = nfp;
    r->capf = ncap;
  }
  r->f[r->nf++] = *fd;
  return TL_OK;
}

/* Skips the line at p (to just after its end). */
const char *csv_skip_line(reader *r, const char *p) {
  while (p < r->end && !is_eol(*p)) p++;
  if (p < r->end) {
    if (*p == '\r' && p + 1 < r->end && p[1] == '\n') p++;
    p++;
    r->line++;
  }
  return p;
}

/* Reads one record into r->f. Returns TL_OK with r->nf > 0, or with
** r->nf == 0 when no record starts before r->until; then r->p is the first
** line start at or past it. Comment lines are skipped, and so are blank
** lines when records have more than one field. A record may run past
** r->until, never past r->end. The first value longer than r->max_field is
** noted in r->big, for the caller to reject the record. */
tl_status csv_read_record(reader *r) {
  const char *p = r->p, *end = r->end;
  r->nf = 0;
  r->bigno = 0;
  for (;;) {
    if (p >= r->until) { r->p = p; return TL_OK; }
    if (comment_at(r, p) || (is_eol(*p) && r->ncol != 1)) { p = csv_skip_line(r, p); continue; }
    break;
  }
  r->rec_line = r->line;
  r->rec_start = p;
  for (;;) {
    field fd;
    fd.line = r->line;
    if (p < end && *p == '"') {
      const char *q = p + 1;
      size_t doubled = 0;
      for (;;) {
        const char *c = csv_next_mark(r, q, 1);
        if (c == end) {
          r->p = p;
          return fail_at(r, TL_EPARSE, fd.line, r->nf + 1, "unterminated quoted field", p);
        }
        r->line += count_lines(q, c);
        if (c + 1 < end && c[1] == '"') { doubled++; q = c + 2; continue; }
        fd.p = p + 1;
        fd.n = (size_t)(c - p - 1);
        fd.len = fd.n - doubled;
        fd.quoted = 1;
        p = c + 1;
        break;
      }
      if (p < end && *p != r->sep && !is_eol(*p))
        return fail_at(r, TL_EPARSE, r->line, r->nf + 1, "text after a closing quote", fd.p - 1);
    } else {
      /* the block's mask answers most fields: a shift and a count of zeros */
      const char *s = p;
      uintptr_t off = (uintptr_t)p - (uintptr_t)r->blk;
      uint64_t m = off < 64 ? r->sm >> off : 0;
      p = m ? p + __builtin_ctzll(m) : csv_next_mark(r, p, 0);
      fd.p = s;
      fd.n = fd.len = (size_t)(p - s);
      fd.quoted = 0;
    }
    if (fd.len > r->max_field && !r->bigno) { r->big = fd; r->bigno = r->nf + 1; }
    TL_TRY(push_field(r, &fd));
    if (p >= end) break;
    if (*p == r->sep) { p++; continue; }
    if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
    p++;
    r->line++;
    break;
  }
  r->p = p;
  r->nrec++;
  return TL_OK;
}

/* Copies a field's text with doubled quotes undone; dst has fd->len bytes. */
void csv_unescape(char *dst, const field *fd) {
  if (fd->len == fd->n) { memcpy(dst, fd->p, fd->n); return; }
  const char *s = fd->p, *e = fd->p + fd->n;
  while (s < e) {
    *dst++ = *s;
    s += (*s == '"') ? 2 : 1;
  }
}

/* ---------------------------------------------------------------------------
** Values
*/

static int null_marker(const reader *r, const field *fd) {
  for (int k = 0; k < r->o->nnulls; k++) {
    const char *m = r->o->nulls[k];
    if (m && strlen(m) == fd->n && memcmp(m, fd->p, fd->n) == 0) return 1;
  }
  return 0;
}

/* A quoted field is never null: "" is an empty string. */
static inline int is_null_field(const reader *r, const field *fd) {
  if (fd->quoted) return 0;
  if (!r->o->nulls) return fd->n == 0;
  return null_marker(r, fd);
}

/* 1 when an integer numeral that does not fit int64 is exactly a double. */
static int big_int_exact(const char *s, size_t n, double d) {
  char buf[400];
  if (*s == '-' || *s == '+') { s++; n--; }
  int k = snprintf(buf, sizeof buf, "%.0f", fabs(d));
  return k > 0 && (size_t)k == n && memcmp(buf, s, n) == 0;
}

typedef csvnum num;   /* a number as classify read it */

/* The CAN_* types the text could be, among those in `can`; the number
** read on the way into *v. */
static unsigned classify(const char *s, size_t n, unsigned can, const tl_csv_options *o,
                         const char *fmt, unsigned *fmts, num *v) {
  unsigned r = 0;
  int b;
  int64_t i;
  double d;
  if ((can & CAN_BOOL) && tl_parse_bool(s, n, &b)) return CAN_BOOL;
  if (can & (CAN_INT | CAN_FLOAT)) {
    int k = tl_parse_int(s, n, &i);
    if (k == 1) {
      r |= CAN_INT | CAN_FLOAT;
      v->i = i;
      v->has_i = 1;
    } else if (k == -1) {
      if (tl_parse_float(s, n, &d) && big_int_exact(s, n, d)) r |= CAN_FLOAT;
      v->d = d;
      v->has_d = 1;
    } else if ((can & CAN_FLOAT) && tl_parse_float(s, n, &d)) {
      r |= CAN_FLOAT;
      v->d = d;
      v->has_d = 1;
    }
  }
  if (can & (CAN_DATE | CAN_TS)) {
    *fmts = csv_fmt_match(o, fmt, s, n, *fmts);
    r |= csv_fmt_can(*fmts, fmt);
  }
  return r & can;
}

unsigned csv_can_of(tl_type t) {
  switch (t) {
    case TL_BOOL: return CAN_BOOL;
    case TL_INT: return CAN_INT;
    case TL_FLOAT: return CAN_FLOAT;
    case TL_DATE: return CAN_DATE;
    case TL_TIMESTAMP: return CAN_TS;
    default: return 0;
  }
}

static tl_type type_of(unsigned can, int64_t values) {
  if (values == 0) return TL_STRING;
  if (can & CAN_BOOL) return TL_BOOL;
  if (can & CAN_INT) return TL_INT;
  if (can & CAN_FLOAT) return TL_FLOAT;
  if (can & CAN_DATE) return TL_DATE;
  if (can & CAN_TS) return TL_TIMESTAMP;
  return TL_STRING;
}

/* 1 when a byte of the span is not ASCII: eight bytes at a time, and the
** tail of fewer by one load each of four, two and one bytes. */
static int has_high_byte(const char *s, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    acc |= w;
  }
  if (n & 4) { uint32_t w; memcpy(&w, s + i, 4); acc |= w; i += 4; }
  if (n & 2) { uint16_t w; memcpy(&w, s + i, 2); acc |= w; i += 2; }
  if (n & 1) acc |= (unsigned char)s[i];
  return (acc & 0x8080808080808080ull) != 0;
}

/* ---------------------------------------------------------------------------
** Dictionaries. A string column with few distinct values is stored as int32
** codes into a dictionary of them. Pass 1 collects each chunk's distinct
** values (pointers into the input, or for a value with doubled quotes into
** the set's own copy of it undone) and notes each row's index in the set;
** the chunks' sets are merged in order, so codes follow first appearance;
** pass 2 maps each row's index to its code. A value equal to the row
** before's costs no hashing.
*/
#define DICT_MAX 65536
#define DICT_INLINE 16
/* A chunk's set past this many values that repeat less than four times on
** average: the column is not taken for one of few values. Looking up many
** distinct values costs more than copying them. */
#define DICT_SPARSE 4096

/* A distinct value: short ones are kept in the entry too, so that comparing
** with them, and merging the sets, reads no input. */
typedef struct dentry {
  const char *p;
  uint32_t len;
  uint64_t h;
  char in[DICT_INLINE];
} dentry;

static const char *dent_text(const dentry *e) { return e->len <= DICT_INLINE ? e->in : e->p; }

typedef struct dset {
  uint64_t *slots;     /* the hash's high half, and entry index + 1; 0 = empty */
  uint32_t cap;        /* a power of two */
  uint32_t n, ecap;
  dentry *e;
  int dead;            /* not a dictionary column (or not known to be one) */
  const char *lp;      /* the last raw value added, and its index */
  size_t ln;
  int32_t li;
  char **blocks;       /* the copies of values with doubled quotes undone */
  size_t nblocks, bused, bcap;
} dset;

static void dset_kill(dset *d) {
  tl_free(d->slots);
  tl_free(d->e);
  for (size_t i = 0; i < d->nblocks; i++) tl_free(d->blocks[i]);
  tl_free(d->blocks);
  memset(d, 0, sizeof *d);
  d->dead = 1;
}

/* Room for n bytes in the set's copies, which never move. */
static char *dset_room(dset *d, size_t n) {
  if (d->nblocks && d->bcap - d->bused >= n) {
    char *at = d->blocks[d->nblocks - 1] + d->bused;
    d->bused += n;
    return at;
  }
  size_t size = n > ((size_t)1 << 16) ? n : (size_t)1 << 16;
  char **nb = tl_realloc(d->blocks, (d->nblocks + 1) * sizeof *nb);
  if (!nb) return NULL;
  d->blocks = nb;
  if (!(nb[d->nblocks] = tl_alloc(size))) return NULL;
  d->nblocks++;
  d->bused = n;
  d->bcap = size;
  return nb[d->nblocks - 1];
}

static inline uint64_t slot_tag(uint64_t h) { return h & ~(uint64_t)0xffffffffu; }

static int64_t dset_find(const dset *d, const char *p, size_t n, uint64_t h) {
  uint32_t mask = d->cap - 1, k = (uint32_t)h & mask;
  uint64_t tag = slot_tag(h);
  for (;;) {
    uint64_t s = d->slots[k];
    if (!s) return -1;
    if (slot_tag(s) == tag) {
      const dentry *e = &d->e[(uint32_t)s - 1];
      if (e->h == h && e->len == n && memcmp(dent_text(e), p, n) == 0) return (uint32_t)s - 1;
    }
    k = (k + 1) & mask;
  }
}

static void slot_put(uint64_t *slots, uint32_t mask, uint64_t h, uint32_t idx) {
  uint32_t k = (uint32_t)h & mask;
  while (slots[k]) k = (k + 1) & mask;
  slots[k] = slot_tag(h) | (idx + 1);
}

/* Adds a value unless present and sets *idx to its index; kills the set
** past DICT_MAX values. A value new to the set is copied into its own
** room when `copy`. Returns 0, or -1 when out of memory. */
static int dset_add(dset *d, const char *p, size_t n, uint64_t h, int copy, int32_t *idx) {
  if (d->dead) return 0;
  int64_t at = d->cap ? dset_find(d, p, n, h) : -1;
  if (at >= 0) { *idx = (int32_t)at; return 0; }
  if (d->n >= DICT_MAX || n > UINT32_MAX) { dset_kill(d); return 0; }
  if (copy && n > DICT_INLINE) {
    char *c = dset_room(d, n);
    if (!c) return -1;
    memcpy(c, p, n);
    p = c;
  }
  if ((d->n + 1) * 2 > d->cap) {
    uint32_t ncap = d->cap ? d->cap * 2 : 64;
    uint64_t *ns = tl_calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (uint32_t i = 0; i < d->n; i++) slot_put(ns, ncap - 1, d->e[i].h, i);
    tl_free(d->slots);
    d->slots = ns;
    d->cap = ncap;
  }
  if (d->n == d->ecap) {
    uint32_t ncap = d->ecap ? d->ecap * 2 : 32;
    dentry *ne = tl_realloc(d->e, ncap * sizeof *ne);
    if (!ne) return -1;
    d->e = ne;
    d->ecap = ncap;
  }
  dentry *e = &d->e[d->n];
  e->p = n > DICT_INLINE ? p : NULL;
  e->len = (uint32_t)n;
  e->h = h;
  if (n <= DICT_INLINE) memcpy(e->in, p, n);
  slot_put(d->slots, d->cap - 1, h, d->n);
  *idx = (int32_t)d->n++;
  return 0;
}

/* Lets the kernel drop the pages of [a, b) of a file mapping from the
** process: they stay in the page cache, so reading them again costs a minor
** fault, and the peak memory of a load is the columns plus the chunks in
** flight, not the file. */
void csv_drop_pages(const reader *r, const char *a, const char *b) {
  if (!r->mapped) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t lo = ((uintptr_t)a + page - 1) & ~(page - 1), hi = (uintptr_t)b & ~(page - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* What the chunk will likely need of something that its records so far,
** which took `done` bytes, needed `had` of: in proportion to the chunk's
** bytes, and a little more; 0 until the records read are a fair sample
** (a 64th of the chunk). */
static int64_t forecast(const job *jb, int64_t had) {
  double done = (double)(jb->r.p - jb->start), all = (double)(jb->stop - jb->start);
  if (done <= 0 || all <= done || done * 64 < all) return 0;
  double x = (double)had * (all / done) * (1.0 + 1.0 / 32) + 64;
  return x < (double)INT64_MAX / 16 ? (int64_t)x : 0;
}

/* Makes room for `rows` rows in what each column keeps: the rows the chunk
** is likely to hold, from the bytes its rows so far took, so that most
** chunks grow once (each growth copies what was kept, into new pages). */
static int grow_rows(job *jb, int64_t rows) {
  int64_t cap = jb->lcap ? jb->lcap : 1024, est = jb->lcap ? forecast(jb, rows) : 0;
  if (est > cap + cap / 8) cap = est;
  while (cap < rows) cap *= 2;
  for (int j = 0; j < jb->r.nout; j++) {
    lvals *l = &jb->lv[j];
    if (!jb->ds[j].dead) {
      uint8_t *nc = tl_realloc(jb->lcodes[j], (size_t)cap << jb->lwide[j]);
      if (!nc) return -1;
      jb->lcodes[j] = nc;
    }
    if (l->v) {
      void *nv = tl_realloc(l->v, (size_t)cap * (l->wide ? 8 : 4));
      if (!nv) return -1;
      l->v = nv;
    }
    if (l->nulls) {
      size_t was = (size_t)(jb->lcap + 63) / 64, now = (size_t)(cap + 63) / 64;
      uint64_t *nn = tl_realloc(l->nulls, now * sizeof *nn);
      if (!nn) return -1;
      memset(nn + was, 0, (now - was) * sizeof *nn);
      l->nulls = nn;
    }
  }
  jb->lcap = cap;
  return 0;
}

/* Notes that row `row` of column k has index idx in the chunk's set: one
** byte while the set has at most 256 values, then two (DICT_MAX is 65536),
** so that the codes kept between the passes cost a byte a row. */
static int set_code(job *jb, int k, int64_t row, int32_t idx) {
  if (!jb->lwide[k] && idx > 255) {
    uint16_t *w = tl_alloc((size_t)jb->lcap * sizeof *w);
    if (!w) return -1;
    for (int64_t i = 0; i < row; i++) w[i] = jb->lcodes[k][i];
    tl_free(jb->lcodes[k]);
    jb->lcodes[k] = (uint8_t *)w;
    jb->lwide[k] = 1;
  }
  if (jb->lwide[k]) ((uint16_t *)(void *)jb->lcodes[k])[row] = (uint16_t)idx;
  else jb->lcodes[k][row] = (uint8_t)idx;
  return 0;
}

static int32_t get_code(const job *jb, int k, int64_t row) {
  return jb->lwide[k] ? ((const uint16_t *)(const void *)jb->lcodes[k])[row] : jb->lcodes[k][row];
}

/* A bad record: an error, or under TL_CSV_SKIP a reject noted for pass 2
** to skip, and TL_OK. */
static tl_status bad(job *jb, int64_t rec, int cls, tl_status code, int64_t line, int fieldno,
                     const char *what, const char *where, int field_only) {
  reader *r = &jb->r;
  if (r->o->on_error != TL_CSV_SKIP)
    return csv_fail_in(r, code, line, rec, fieldno, what, where, field_only);
  if (jb->nrej == jb->caprej) {
    int64_t ncap = jb->caprej ? jb->caprej * 2 : 16;
    reject *nr = tl_realloc(jb->rej, (size_t)ncap * sizeof *nr);
    if (!nr) return tl_error_oom(r->err, "read_csv");
    jb->rej = nr;
    jb->caprej = ncap;
  }
  jb->rej[jb->nrej++] = (reject){ rec, line, fieldno, cls, field_only, where };
  return TL_OK;
}

/* What classify would say of the most common numerals, when `can` is what
** it would keep: an integer numeral where `can` is `ints` (CAN_INT in a
** forced integer column, CAN_INT | CAN_FLOAT while a column may be either;
** tl_parse_int takes just what classify takes there), a numeral with a
** point in a column of floats (which no integer parse takes). 0 when
** classify must look. */
static inline int numeral_fast(unsigned can, unsigned ints, const field *fd, num *v) {
  if (can == ints) {
    if (tl_parse_int(fd->p, fd->n, &v->i) != 1) return 0;
    v->has_i = 1;
    return 1;
  }
  if (can == CAN_FLOAT && memchr(fd->p, '.', fd->n)) {
    if (!tl_parse_float(fd->p, fd->n, &v->d)) return 0;
    v->has_d = 1;
    return 1;
  }
  return 0;
}

/* Checks a record whose fields fit and whose field count is right: its
** values must be valid UTF-8 and of their column's forced type. Returns
** TL_OK with *ok = 0 when the record was rejected. */
static tl_status check_values(job *jb, int64_t rec, int *ok) {
  reader *r = &jb->r;
  const colinfo *ci = jb->ci;
  *ok = 1;
  /* most records are ASCII, and most columns not forced: then nothing to
  ** check (r->high: csv_block saw no byte past ASCII in the record) */
  if (!jb->forced && (!r->high || r->high <= r->rec_start)) return TL_OK;
  for (int k = 0; k < r->nout; k++) {
    int j = r->sel[k];
    const field *fd = &r->f[j];
    num *v = &jb->nv[k];
    *v = (num){ 0, 0, 0, 0 };
    if (is_null_field(r, fd)) continue;
    if (has_high_byte(fd->p, fd->n) && !tl_utf8_valid(fd->p, fd->n)) {
      *ok = 0;
      return bad(jb, rec, BAD_UTF8, TL_EPARSE, fd->line, j + 1, "invalid UTF-8", fd->p, 1);
    }
    if (!ci[k].forced || !ci[k].can) continue;
    unsigned fm = ci[k].fmts;
    if (fd->len != fd->n ||   /* text with quotes in it is no number */
        !(numeral_fast(ci[k].can, CAN_INT, fd, v) ||
          classify(fd->p, fd->n, ci[k].can, r->o, ci[k].fmt, &fm, v))) {
      char what[64];
      snprintf(what, sizeof what, "value is not of the forced type %s", tl_type_name(ci[k].type));
      *ok = 0;
      return bad(jb, rec, BAD_TYPE, TL_ETYPE, fd->line, j + 1, what, fd->p, 1);
    }
  }
  return TL_OK;
}

/* The record just read has a value longer than max_field_size. */
static tl_status too_big(job *jb, int64_t rec) {
  reader *r = &jb->r;
  char what[96];
  snprintf(what, sizeof what, "field of %zu bytes exceeds max_field_size (%zu)", r->big.len,
           r->max_field);
  return bad(jb, rec, BAD_BIG, TL_ELIMIT, r->big.line, r->bigno, what, r->big.p, 1);
}

/* A kept integer or text end of row i: four bytes a row while all fit
** int32, else eight. */
static inline void lv_put(lvals *l, int64_t i, int64_t x) {
  if (l->wide) memcpy((char *)l->v + i * 8, &x, 8);
  else { int32_t y = (int32_t)x; memcpy((char *)l->v + i * 4, &y, 4); }
}

static inline int64_t lv_get(const lvals *l, int64_t i) {
  if (l->wide) { int64_t x; memcpy(&x, (const char *)l->v + i * 8, 8); return x; }
  int32_t y;
  memcpy(&y, (const char *)l->v + i * 4, 4);
  return y;
}

/* Eight bytes a row from now on; rows [0, rows) made so. */
static int lv_widen(job *jb, lvals *l, int64_t rows) {
  if (l->wide) return 0;
  if (l->v) {
    void *nv = tl_realloc(l->v, (size_t)jb->lcap * 8);
    if (!nv) return -1;
    l->v = nv;
    for (int64_t i = rows - 1; i >= 0; i--) {   /* from the end: no row is overwritten unread */
      int32_t y;
      memcpy(&y, (char *)nv + i * 4, 4);
      int64_t x = y;
      memcpy((char *)nv + i * 8, &x, 8);
    }
  }
  l->wide = 1;
  return 0;
}

/* What a column of the chunk keeps, from what it could be. */
static int want_kind(const colinfo *c) {
  if (c->forced)
    return c->type == TL_INT ? LV_INT : c->type == TL_FLOAT ? LV_FLOAT
         : c->type == TL_STRING ? LV_TEXT : LV_DEAD;
  if (!c->can) return LV_TEXT;
  if (c->can & CAN_BOOL) return LV_DEAD;
  if (c->can & CAN_INT) return LV_INT;
  if (c->can & CAN_FLOAT) return LV_FLOAT;
  return LV_DEAD;
}

static void keep_none(lvals *l) {
  tl_free(l->v);
  tl_free(l->sb);
  l->v = NULL;
  l->sb = NULL;
  l->kind = LV_DEAD;
}

/* Keeps the number of row `row` of column k (not null): as pass 2 would
** read it, tl_parse_int for an integer column, tl_parse_float for a float
** one. The integers kept so far become doubles when the column turns out
** not to be one of integers (exact: each is what tl_parse_float reads of
** its text, but for "-0"). Returns -1 when out of memory. */
static int keep_number(job *jb, int k, int64_t row, const field *fd, const num *nv, int want) {
  lvals *l = &jb->lv[k];
  if (want == LV_FLOAT && l->kind == LV_INT) {
    if (l->negzero) want = LV_DEAD;
    else {
      if (lv_widen(jb, l, row) != 0) return -1;
      for (int64_t i = 0; i < row; i++) {
        int64_t x;
        memcpy(&x, (char *)l->v + i * 8, 8);
        double d = (double)x;
        memcpy((char *)l->v + i * 8, &d, 8);
      }
    }
  }
  if (want == LV_DEAD) { keep_none(l); return 0; }
  if (want == LV_FLOAT && lv_widen(jb, l, row) != 0) return -1;
  if (!l->v && !(l->v = tl_calloc((size_t)jb->lcap, l->wide ? 8 : 4))) return -1;
  l->kind = want;
  if (want == LV_INT) {
    int64_t i = nv->i;
    if (!nv->has_i) tl_parse_int(fd->p, fd->n, &i);
    if (i == 0 && fd->n && *fd->p == '-') l->negzero = 1;
    if ((i < INT32_MIN || i > INT32_MAX) && lv_widen(jb, l, row) != 0) return -1;
    lv_put(l, row, i);
  } else {
    double d = nv->d;
    if (!nv->has_d) tl_parse_float(fd->p, fd->n, &d);
    memcpy((char *)l->v + row * 8, &d, 8);
  }
  return 0;
}

/* Appends n bytes of text to column k's copy, and row `row`'s end. The
** copy grows as the rows do (grow_rows). */
static int put_text(job *jb, int k, int64_t row, const char *p, size_t n) {
  lvals *l = &jb->lv[k];
  if (l->sn + (int64_t)n > l->scap) {
    int64_t cap = l->scap ? l->scap : 4096, est = forecast(jb, l->sn + (int64_t)n);
    if (est > cap + cap / 8) cap = est;
    while (cap < l->sn + (int64_t)n) cap *= 2;
    char *nb = tl_realloc(l->sb, (size_t)cap);
    if (!nb) return -1;
    l->sb = nb;
    l->scap = cap;
  }
  if (n) memcpy(l->sb + l->sn, p, n);
  l->sn += (int64_t)n;
  if (l->sn > INT32_MAX && lv_widen(jb, l, row) != 0) return -1;
  lv_put(l, row, l->sn);
  return 0;
}

/* Column k's set dies: the text of rows [0, row) from their indices in it. */
static int text_from_set(job *jb, int k, int64_t row) {
  lvals *l = &jb->lv[k];
  const dset *d = &jb->ds[k];
  if (!l->v && !(l->v = tl_calloc((size_t)jb->lcap, 4))) return -1;
  l->text = 1;
  for (int64_t i = 0; i < row; i++) {
    if (l->nulls && (l->nulls[i >> 6] >> (i & 63) & 1)) { lv_put(l, i, l->sn); continue; }
    const dentry *e = &d->e[get_code(jb, k, i)];
    if (put_text(jb, k, i, dent_text(e), e->len) != 0) return -1;
  }
  return 0;
}

static void set_dies(job *jb, int k) {
  dset_kill(&jb->ds[k]);
  tl_free(jb->lcodes[k]);
  jb->lcodes[k] = NULL;
}

/* Row `row`'s value of string column k: its text, or once the column has
** too many distinct values for the set, kept in column k's copy (a value
** with doubled quotes undone first). */
static int keep_text(job *jb, int k, int64_t row, const field *fd) {
  dset *d = &jb->ds[k];
  lvals *l = &jb->lv[k];
  int32_t idx = 0;
  if (!d->dead && (d->n >= DICT_MAX || (d->n > DICT_SPARSE && (int64_t)d->n * 4 > row) ||
                   (jb->nodict && __atomic_load_n(&jb->nodict[k], __ATOMIC_RELAXED)))) {
    /* one chunk without a dictionary and the column has none (merge_dict):
    ** the others need not look their values up either */
    if (jb->nodict) __atomic_store_n(&jb->nodict[k], 1, __ATOMIC_RELAXED);
    if (text_from_set(jb, k, row) != 0) return -1;
    set_dies(jb, k);
  }
  if (d->dead) {
    if (!l->text) { keep_none(l); return 0; }
    if (fd->len == fd->n) return put_text(jb, k, row, fd->p, fd->n);
    if (put_text(jb, k, row, fd->p, fd->len) != 0) return -1;
    csv_unescape(l->sb + l->sn - (int64_t)fd->len, fd);
    return 0;
  }
  if (fd->n == d->ln && d->lp && memcmp(fd->p, d->lp, fd->n) == 0) idx = d->li;
  else if (fd->len == fd->n) {
    if (dset_add(d, fd->p, fd->n, XXH3_64bits(fd->p, fd->n), 0, &idx) != 0) return -1;
  } else {
    if (fd->len > jb->capscratch) {
      char *ns = tl_realloc(jb->scratch, fd->len);
      if (!ns) return -1;
      jb->scratch = ns;
      jb->capscratch = fd->len;
    }
    csv_unescape(jb->scratch, fd);
    if (dset_add(d, jb->scratch, fd->len, XXH3_64bits(jb->scratch, fd->len), 1, &idx) != 0)
      return -1;
  }
  if (d->dead) {   /* a value too long for a set: no copy either */
    set_dies(jb, k);
    keep_none(l);
    return 0;
  }
  d->lp = fd->p;
  d->ln = fd->n;
  d->li = idx;
  return set_code(jb, k, row, idx);   /* pass 2 maps it to the code, with no hashing */
}

/* A null in row `row` of column k. */
static int keep_null(job *jb, int k, int64_t row) {
  lvals *l = &jb->lv[k];
  if (!l->nulls && !(l->nulls = tl_calloc((size_t)(jb->lcap + 63) / 64, sizeof *l->nulls)))
    return -1;
  l->nulls[row >> 6] |= (uint64_t)1 << (row & 63);
  if (l->v) lv_put(l, row, l->kind == LV_TEXT ? l->sn : 0);   /* all bits 0: 0.0 as a double */
  return jb->ds[k].dead ? 0 : set_code(jb, k, row, 0);
}

/* Pass 1 of row `row`'s value of column k, a good record's: narrows the
** column's type, counts it and keeps what pass 2 needs. Returns -1 when
** out of memory. */
static int keep(job *jb, int k, int64_t row) {
  reader *r = &jb->r;
  const field *fd = &r->f[r->sel[k]];
  colinfo *c = &jb->ci[k];
  lvals *l = &jb->lv[k];
  if (is_null_field(r, fd)) {
    c->nulls++;
    return keep_null(jb, k, row);
  }
  c->values++;
  c->nbytes += (int64_t)fd->len;
  /* a forced column's number, as check_values read it */
  num v = jb->forced ? jb->nv[k] : (num){ 0, 0, 0, 0 };
  if (c->can && !c->forced && fd->len == fd->n &&
      numeral_fast(c->can, CAN_INT | CAN_FLOAT, fd, &v)) {
    if (!c->first.p) c->first = *fd;
  } else if (c->can && !c->forced) {
    unsigned was = c->can;
    c->can = fd->len != fd->n ? 0 : classify(fd->p, fd->n, was, r->o, NULL, &c->fmts, &v);
    if (!c->first.p) c->first = *fd;
    for (unsigned b = 0, lost = was & ~c->can; lost; b++, lost >>= 1)
      if (lost & 1) c->kill[b] = *fd;
  }
  int want = l->kind == LV_DEAD ? LV_DEAD : want_kind(c);
  /* only values known to be text are collected: a value seen while the
  ** column could still be a number leaves the set incomplete, and numbers
  ** kept leave no text */
  if (want != LV_TEXT && !jb->ds[k].dead) set_dies(jb, k);
  if (want == LV_TEXT && (l->kind == LV_NONE || l->kind == LV_TEXT)) {
    l->kind = LV_TEXT;
    return keep_text(jb, k, row, fd);
  }
  if (want == LV_TEXT) want = LV_DEAD;
  return l->kind == LV_DEAD && want == LV_DEAD ? 0 : keep_number(jb, k, row, fd, &v, want);
}

/* Pass 1 over one chunk: checks the field counts, narrows the types and
** counts rows, nulls and string bytes. */
tl_status csv_scan_job(job *jb) {
  reader *r = &jb->r;
  tl_status st = TL_OK;
  int64_t row = 0;
  r->p = jb->start;
  for (;;) {
    if ((r->nrec & 4095) == 0 && tl_interrupted()) { st = tl_error_interrupted(r->err, "read_csv"); break; }
    if ((st = csv_read_record(r)) != TL_OK) break;
    if (r->nf == 0) break;
    int64_t this = r->nrec - 1;
    if (r->bigno) {
      if ((st = too_big(jb, this)) != TL_OK) break;
      continue;
    }
    if (r->nf != r->ncol) {
      char what[96];
      snprintf(what, sizeof what, "too %s fields (expected %d, found %d)",
               r->nf < r->ncol ? "few" : "many", r->ncol, r->nf);
      int at = r->nf < r->ncol ? r->nf + 1 : r->ncol + 1;
      st = bad(jb, this, r->nf < r->ncol ? BAD_FEW : BAD_MANY, TL_EPARSE,
               r->f[(at - 1 < r->nf ? at : r->nf) - 1].line, at, what, r->rec_start, 0);
      if (st != TL_OK) break;
      continue;
    }
    int ok;
    if ((st = check_values(jb, this, &ok)) != TL_OK) break;
    if (!ok) continue;
    if (row >= jb->lcap && grow_rows(jb, row + 1) != 0) {
      st = tl_error_oom(r->err, "read_csv");
      break;
    }
    for (int k = 0; k < r->nout; k++) {
      if (keep(jb, k, row) != 0) {
        st = tl_error_oom(r->err, "read_csv");
        break;
      }
    }
    if (st != TL_OK) break;
    row++;
  }
  jb->rows = row;
  jb->lines = r->line;
  jb->recs = r->nrec;
  jb->end = r->p;
  return st;
}

/* Bits of rows at the edges of two chunks share a byte: set them atomically. */
static void bit_set(void *bm, int64_t i) {
  __atomic_fetch_or((uint8_t *)bm + (i >> 3), (uint8_t)(1u << (i & 7)), __ATOMIC_RELAXED);
}

static void bit_clear(void *bm, int64_t i) {
  __atomic_fetch_and((uint8_t *)bm + (i >> 3), (uint8_t)~(1u << (i & 7)), __ATOMIC_RELAXED);
}

/* Pass 2 over the text of one chunk, for the columns marked in `need`:
** values straight into the columns' buffers, which are not zeroed
** beforehand (so that their pages come in as they fill): a null gets a
** zero value. */
static void convert(job *jb, const colinfo *ci, tl_column **cols, const uint8_t *need) {
  reader *r = &jb->r;
  int64_t *pos = jb->bytes0;
  int64_t rec = 0, nx = 0;
  r->p = jb->start;
  r->line = r->nrec = 0;
  for (int64_t row = jb->row0; row < jb->row0 + jb->rows; rec++) {
    if (csv_read_record(r) != TL_OK || r->nf == 0) return;   /* cannot happen: pass 1 read the same */
    if (nx < jb->nrej && jb->rej[nx].rec == rec) { nx++; continue; }
    for (int j = 0; j < r->nout; j++) {
      if (!need[j]) continue;
      const field *fd = &r->f[r->sel[j]];
      tl_column *col = cols[j];
      if (is_null_field(r, fd)) {
        bit_clear(col->validity, row);
        switch (ci[j].type) {
          case TL_BOOL: break;
          case TL_DATE: ((int32_t *)col->values)[row] = 0; break;
          case TL_STRING:
            if (col->dict) ((int32_t *)col->values)[row] = 0;
            else ((int64_t *)col->values)[row + 1] = pos[j];
            break;
          default: ((int64_t *)col->values)[row] = 0; break;   /* int, float, timestamp */
        }
        continue;
      }
      switch (ci[j].type) {
        case TL_BOOL: {
          int b = 0;
          tl_parse_bool(fd->p, fd->n, &b);
          if (b) bit_set(col->values, row);
          break;
        }
        case TL_INT:
          tl_parse_int(fd->p, fd->n, &((int64_t *)col->values)[row]);
          break;
        case TL_FLOAT:
          tl_parse_float(fd->p, fd->n, &((double *)col->values)[row]);
          break;
        case TL_DATE: {
          int64_t us = 0;
          csv_fmt_parse(r->o, ci[j].fmt, ci[j].fmts, TL_DATE, fd->p, fd->n, &us);
          ((int32_t *)col->values)[row] = (int32_t)tl_floor_div(us, TL_US_PER_DAY);
          break;
        }
        case TL_TIMESTAMP:
          csv_fmt_parse(r->o, ci[j].fmt, ci[j].fmts, TL_TIMESTAMP, fd->p, fd->n,
                        &((int64_t *)col->values)[row]);
          break;
        case TL_STRING:
          if (col->dict) {
            ((int32_t *)col->values)[row] = jb->remap[j][get_code(jb, j, row - jb->row0)];
            break;
          }
          csv_unescape(col->bytes + pos[j], fd);
          pos[j] += (int64_t)fd->len;
          ((int64_t *)col->values)[row + 1] = pos[j];
          break;
      }
    }
    row++;
  }
}

/* Drops the chunk's pages, its last record's included. */
void csv_release_job(const job *jb) {
  if (jb->start) csv_drop_pages(&jb->r, jb->start, jb->end > jb->stop ? jb->end : jb->stop);
}

/* Adds a finished chunk to the bytes done and tells the progress callback,
** unless a call is under way on another thread. */
void csv_progress(csvrun *run, const job *jb) {
  const tl_csv_options *o = run->main->o;
  if (!o->progress) return;
  int64_t done = __atomic_add_fetch(&run->done, (int64_t)(jb->stop - jb->at), __ATOMIC_RELAXED);
  if (__atomic_exchange_n(&run->busy, 1, __ATOMIC_ACQUIRE)) return;
  o->progress(o->progress_ud, run->pass, done + run->before, run->total);
  __atomic_store_n(&run->busy, 0, __ATOMIC_RELEASE);
}

/* Frees what pass 2 of a chunk needed once it is done. */
static void free_codes(job *jb) {
  for (int j = 0; jb->lcodes && j < jb->r.nout; j++) {
    tl_free(jb->lcodes[j]);
    jb->lcodes[j] = NULL;
    if (jb->remap) { tl_free(jb->remap[j]); jb->remap[j] = NULL; }
  }
  for (int j = 0; jb->lv && j < jb->r.nout; j++) {
    tl_free(jb->lv[j].v);
    tl_free(jb->lv[j].nulls);
    tl_free(jb->lv[j].sb);
    jb->lv[j].v = NULL;
    jb->lv[j].nulls = NULL;
    jb->lv[j].sb = NULL;
  }
}

/* 1 when pass 1 kept all that pass 2 needs of column j of the chunk. */
static int kept(const job *jb, int j, const colinfo *c, const tl_column *col) {
  const lvals *l = &jb->lv[j];
  if (jb->rows == 0) return 1;
  switch (c->type) {
    case TL_INT: return l->kind == LV_INT || l->kind == LV_NONE;
    case TL_FLOAT:
      return l->kind == LV_FLOAT || l->kind == LV_NONE || (l->kind == LV_INT && !l->negzero);
    case TL_STRING:
      if (col->dict) return jb->lcodes[j] != NULL;
      return l->kind == LV_NONE || (l->kind == LV_TEXT && l->text);
    default: return 0;
  }
}

/* Pass 2 of column j of the chunk from what pass 1 kept of it. */
static void place(job *jb, int j, const colinfo *c, tl_column *col) {
  const lvals *l = &jb->lv[j];
  int64_t row0 = jb->row0, n = jb->rows;
  if (c->type == TL_STRING && !col->dict) {
    int64_t *off = (int64_t *)col->values + row0 + 1, b0 = jb->bytes0[j];
    if (!l->v) for (int64_t i = 0; i < n; i++) off[i] = b0;
    else if (l->wide) for (int64_t i = 0; i < n; i++) off[i] = b0 + ((const int64_t *)l->v)[i];
    else for (int64_t i = 0; i < n; i++) off[i] = b0 + ((const int32_t *)l->v)[i];
    if (l->sn) memcpy(col->bytes + b0, l->sb, (size_t)l->sn);
  } else if (c->type == TL_STRING) {
    int32_t *codes = (int32_t *)col->values + row0;
    const int32_t *remap = jb->remap[j];
    if (jb->lwide[j]) {
      const uint16_t *w = (const uint16_t *)(const void *)jb->lcodes[j];
      for (int64_t i = 0; i < n; i++) codes[i] = remap[w[i]];
    } else {
      const uint8_t *b = jb->lcodes[j];
      for (int64_t i = 0; i < n; i++) codes[i] = remap[b[i]];
    }
  } else {
    char *out = (char *)col->values + row0 * 8;
    if (!l->v) memset(out, 0, (size_t)n * 8);
    else if (c->type == TL_FLOAT && l->kind == LV_INT) {
      for (int64_t i = 0; i < n; i++) {
        double d = (double)lv_get(l, i);
        memcpy(out + i * 8, &d, 8);
      }
    } else if (l->wide) memcpy(out, l->v, (size_t)n * 8);
    else {
      int64_t *o64 = (int64_t *)(void *)out;
      const int32_t *v32 = l->v;
      for (int64_t i = 0; i < n; i++) o64[i] = v32[i];
    }
  }
  for (int64_t w = 0; l->nulls && w < (n + 63) / 64; w++)
    for (uint64_t m = l->nulls[w]; m; m &= m - 1) {
      int64_t i = w * 64 + __builtin_ctzll(m);
      bit_clear(col->validity, row0 + i);
      if (col->dict) ((int32_t *)col->values)[row0 + i] = 0;
    }
}

static void convert_task(void *ctx, int64_t k, int worker) {
  (void)worker;
  csvrun *run = ctx;
  job *jb = &run->jobs[k];
  int text = 0;
  for (int j = 0; j < jb->r.nout; j++) {
    int kp = kept(jb, j, &run->ci[j], run->cols[j]);
    if (kp) place(jb, j, &run->ci[j], run->cols[j]);
    else text = 1;
    jb->need[j] = (uint8_t)!kp;
  }
  if (text) convert(jb, run->ci, run->cols, jb->need);
  free_codes(jb);
  csv_release_job(jb);
  csv_progress(run, jb);
}

/* The job's per-column state, from jb->proto. */
tl_status csv_job_init(job *jb) {
  int nout = jb->r.nout;
  jb->ci = tl_alloc(((size_t)nout + 1) * sizeof *jb->ci);
  jb->bytes0 = tl_calloc((size_t)nout + 1, sizeof *jb->bytes0);
  jb->ds = tl_calloc((size_t)nout + 1, sizeof *jb->ds);
  jb->lcodes = tl_calloc((size_t)nout + 1, sizeof *jb->lcodes);
  jb->lwide = tl_calloc((size_t)nout + 1, sizeof *jb->lwide);
  jb->remap = tl_calloc((size_t)nout + 1, sizeof *jb->remap);
  jb->lv = tl_calloc((size_t)nout + 1, sizeof *jb->lv);
  jb->need = tl_calloc((size_t)nout + 1, sizeof *jb->need);
  jb->nv = tl_calloc((size_t)nout + 1, sizeof *jb->nv);
  if (!jb->nv || !jb->ci || !jb->bytes0 || !jb->ds || !jb->lcodes || !jb->lwide || !jb->remap || !jb->lv ||
      !jb->need)
    return TL_ENOMEM;
  memcpy(jb->ci, jb->proto, (size_t)nout * sizeof *jb->ci);
  jb->forced = 0;
  for (int j = 0; j < nout; j++) jb->forced |= jb->ci[j].forced && jb->ci[j].can;
  return TL_OK;
}

/* Frees what csv_job_init and a scan made, and forgets what the scan found. */
void csv_job_clear(job *jb) {
  free_codes(jb);
  tl_free(jb->ci);
  tl_free(jb->bytes0);
  tl_free(jb->rej);
  for (int j = 0; jb->ds && j < jb->r.nout; j++) dset_kill(&jb->ds[j]);
  tl_free(jb->ds);
  tl_free(jb->lcodes);
  tl_free(jb->lwide);
  tl_free(jb->remap);
  tl_free(jb->lv);
  tl_free(jb->need);
  tl_free(jb->nv);
  jb->nv = NULL;
  tl_free(jb->scratch);
  jb->lv = NULL;
  jb->need = NULL;
  jb->scratch = NULL;
  jb->capscratch = 0;
  jb->ci = NULL;
  jb->bytes0 = NULL;
  jb->rej = NULL;
  jb->ds = NULL;
  jb->lcodes = NULL;
  jb->lwide = NULL;
  jb->remap = NULL;
  jb->rows = jb->lines = jb->recs = jb->nrej = jb->caprej = jb->lcap = 0;
  jb->st = TL_OK;
}

/* Merges the chunks' distinct values of string column j into run->ds[j] and
** makes the dictionary column, when every chunk knew all its values and
** there are few enough of them to pay: *dict stays NULL otherwise. */
static tl_status merge_dict(csvrun *run, int j, int64_t nrows, tl_column **dict,
                            tl_error *err) {
  dset *d = &run->ds[j];
  for (int k = 0; k < run->njobs; k++)
    if (run->jobs[k].ds[j].dead) return TL_OK;
  for (int k = 0; k < run->njobs && !d->dead; k++) {
    job *jb = &run->jobs[k];
    const dset *cd = &jb->ds[j];
    int32_t *remap = tl_alloc(((size_t)cd->n + 1) * sizeof *remap);
    if (!remap) return tl_error_oom(err, "read_csv");
    jb->remap[j] = remap;
    for (uint32_t i = 0; i < cd->n && !d->dead; i++)
      if (dset_add(d, dent_text(&cd->e[i]), cd->e[i].len, cd->e[i].h, 0, &remap[i]) != 0)
        return tl_error_oom(err, "read_csv");
  }
  if (d->dead || d->n == 0 || (int64_t)d->n * 2 > nrows) { dset_kill(d); return TL_OK; }
  int64_t nbytes = 0;
  for (uint32_t i = 0; i < d->n; i++) nbytes += d->e[i].len;
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_STRING, d->n, 0, nbytes, &c, err));
  int64_t *off = c->values, pos = 0;
  for (uint32_t i = 0; i < d->n; i++) {
    memcpy(c->bytes + pos, dent_text(&d->e[i]), d->e[i].len);
    pos += d->e[i].len;
    off[i + 1] = pos;
  }
  *dict = c;
  return TL_OK;
}

/* A column of int32 codes into `dict`, its values not zeroed: pass 2
** writes every row. */
static tl_status alloc_dict(tl_column *dict, int64_t n, int nullable, tl_column **out,
                            tl_error *err) {
  tl_column *c;
  TL_TRY(tl_column_alloc_raw(TL_DATE, n, nullable, &c, err));
  c->type = TL_STRING;
  c->dict = tl_column_retain(dict);
  *out = c;
  return TL_OK;
}


/* Merges what pass 1 learnt of each chunk into run->ci in file order,
** places each chunk's rows and bytes, and settles the inferred types. */
void csv_merge_scans(csvrun *run, int64_t *nrows_out, int64_t *nrej_out) {
  colinfo *ci = run->ci;
  int nout = run->main->nout;
  int64_t nrows = 0, nrej = 0;
  for (int k = 0; k < run->njobs; k++) {
    job *jb = &run->jobs[k];
    jb->row0 = nrows;
    nrows += jb->rows;
    nrej += jb->nrej;
    for (int j = 0; j < nout; j++) {
      const colinfo *cj = &jb->ci[j];
      jb->bytes0[j] = ci[j].nbytes;
      ci[j].can &= cj->can;
      ci[j].fmts &= cj->fmts;   /* one format must read the values of every chunk */
      if (!ci[j].forced && (ci[j].can & (CAN_DATE | CAN_TS)))
        ci[j].can &= ~(unsigned)(CAN_DATE | CAN_TS) | csv_fmt_can(ci[j].fmts, NULL);
      ci[j].values += cj->values;
      ci[j].nulls += cj->nulls;
      ci[j].nbytes += cj->nbytes;
      if (!ci[j].first.p && cj->first.p) {
        ci[j].first = cj->first;
        ci[j].first.line += jb->line0;
      }
      for (int b = 0; b < NCAN; b++)
        if (!ci[j].kill[b].p && cj->kill[b].p) {
          ci[j].kill[b] = cj->kill[b];
          ci[j].kill[b].line += jb->line0;
        }
    }
  }
  for (int j = 0; j < nout; j++)
    if (!ci[j].forced) ci[j].type = type_of(ci[j].can, ci[j].values);
  *nrows_out = nrows;
  *nrej_out = nrej;
}

typedef struct colwork {
  csvrun *run;
  int64_t nrows;
  tl_column **cols;
  tl_status *st;
  tl_error *err;       /* per column */
} colwork;

/* Allocates cols[j], a dictionary column where the chunks' distinct values
** allow. */
static tl_status make_column(csvrun *run, int j, int64_t nrows, tl_column **cols, tl_error *err) {
  const colinfo *ci = run->ci;
  tl_status st = TL_OK;
  tl_column *dict = NULL;
  int nullable = ci[j].nulls > 0;
  if (ci[j].type == TL_STRING) st = merge_dict(run, j, nrows, &dict, err);
  if (st == TL_OK && dict)
    st = alloc_dict(dict, nrows, nullable, &cols[j], err);
  else if (st == TL_OK && (ci[j].type == TL_STRING || ci[j].type == TL_BOOL))
    st = tl_column_alloc(ci[j].type, nrows, nullable, ci[j].nbytes, &cols[j], err);
  else if (st == TL_OK)   /* pass 2 writes every value */
    st = tl_column_alloc_raw(ci[j].type, nrows, nullable, &cols[j], err);
  tl_column_release(dict);
  for (int k = 0; k < run->njobs; k++) {   /* the chunks' sets are merged or of no use */
    dset_kill(&run->jobs[k].ds[j]);
    if (!dict) { tl_free(run->jobs[k].lcodes[j]); run->jobs[k].lcodes[j] = NULL; }
  }
  return st;
}

static void column_task(void *ctx, int64_t j, int worker) {
  (void)worker;
  colwork *w = ctx;
  w->st[j] = make_column(w->run, (int)j, w->nrows, w->cols, &w->err[j]);
}

/* Allocates cols[j] for every column, the columns in parallel. */
tl_status csv_make_columns(csvrun *run, int64_t nrows, tl_column **cols) {
  reader *r = run->main;
  int nout = r->nout;
  run->ds = tl_calloc((size_t)nout + 1, sizeof *run->ds);
  colwork w = { run, nrows, cols, tl_calloc((size_t)nout + 1, sizeof(tl_status)),
                tl_calloc((size_t)nout + 1, sizeof(tl_error)) };
  tl_status st = TL_OK;
  if (!run->ds || !w.st || !w.err) st = tl_error_oom(r->err, "read_csv");
  else tl_parallel_for(nout, column_task, &w);
  for (int j = 0; st == TL_OK && j < nout; j++)
    if (w.st[j] != TL_OK) {
      st = w.st[j];
      if (r->err) *r->err = w.err[j];
    }
  tl_free(w.st);
  tl_free(w.err);
  return st;
}

/* Pass 2: every chunk into cols. */
void csv_convert_all(csvrun *run, tl_column **cols) {
  csv_drop_pages(run->main, run->jobs[0].start, run->main->end);   /* merging read values anywhere */
  run->cols = cols;
  run->pass = 2;
  run->done = 0;
  tl_parallel_for(run->njobs, convert_task, run);
}

void csv_free_run(csvrun *run) {
  csv_free_jobs(run->jobs, run->njobs);
  for (int j = 0; run->ds && j < run->main->nout; j++) dset_kill(&run->ds[j]);
  tl_free(run->ds);
}
