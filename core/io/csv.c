/*
** csv.c -- reading and writing CSV.
**
** The reader works on the whole input in memory (a file is mapped, not
** copied) in two passes. Pass 1 walks every record: it checks the field
** count, narrows each column's type over the whole file, counts string bytes
** so that columns are allocated once at their exact size, and cuts the input
** into chunks at record boundaries. Pass 2 converts chunk by chunk straight
** into the column buffers; chunks are independent, which is what lets them
** run in parallel and what the chunk-size test knob exercises.
**
** Under TL_CSV_SKIP pass 1 lists the bad records of each chunk, and pass 2
** skips the same ones. Pass 1 also keeps, per column and per candidate
** type, the first value that was not of that type, which is what t:schema()
** gives as the reason for a type.
**
** Memory: a load holds little beyond its columns. A mapped file's pages
** are dropped as each chunk is done with them; between the passes a chunk
** keeps one byte a row (two past 256 distinct values) for each string
** column that may become a dictionary; the columns are not zeroed when
** allocated, so their pages come in as pass 2 fills them.
**
** A byte range of the input reads the header at the input's start, then
** only the records whose first byte lies in the range (see "Ranges").
**
** core/io: files in and out: CSV (this file), JSON, the Arrow C Data
** Interface, tally's own table file (store.c) and tables found in text
** reports (document.c). Readers parse values with base's parsers; the
** folder stands on base.
*/
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/alloc.h"
#include "base/column.h"
#include "base/parse.h"
#include "base/error.h"
#include "base/pool.h"
#include "base/table.h"

#define DEFAULT_CHUNK ((size_t)1 << 22)
#define MAX_COLUMNS 100000
#define DEFAULT_MAX_FIELD ((size_t)64 << 20)

enum { CAN_BOOL = 1, CAN_INT = 2, CAN_FLOAT = 4, CAN_DATE = 8, CAN_TS = 16, CAN_ALL = 31 };

void tl_csv_options_init(tl_csv_options *o) {
  memset(o, 0, sizeof *o);
  o->header = 1;
  o->infer = 1;
  o->max_rows = -1;
  o->range_quotes = -1;
}

typedef struct field {
  const char *p;     /* raw text, without the enclosing quotes */
  size_t n;          /* raw length */
  size_t len;        /* length once doubled quotes are undone */
  int quoted;
  int64_t line;      /* where the field starts */
} field;

enum { NCAN = 5 };

typedef struct colinfo {
  unsigned can;      /* CAN_* types every value so far could be */
  int64_t values;    /* non-null values */
  int64_t nulls;
  int64_t nbytes;    /* string payload */
  tl_type type;      /* forced or inferred */
  int forced;
  field first;       /* the first value (p == NULL: none yet) */
  field kill[NCAN];  /* per CAN_* bit: the first value that was not of that type */
} colinfo;

typedef struct failure {
  int set;
  tl_status code;
  int64_t line;
  int64_t rec;       /* the record's index, counted from where its reader started */
  int fieldno;
  char what[96];
  const char *where;
  int field_only;
} failure;

typedef struct reader {
  const char *name;
  const char *data, *end, *p;
  const char *until;     /* records start before this: the end of a chunk or range */
  const tl_csv_options *o;
  char sep;
  int64_t line;          /* line of p */
  int64_t rec_line;      /* line where the current record starts */
  int64_t nrec;          /* records read */
  const char *rec_start;
  size_t max_field;      /* bytes a value may have */
  size_t ncomment;       /* length of o->comment; 0: none */
  field big;             /* the record's first value longer than that */
  int bigno;             /* its field number; 0: none */
  field *f;
  int nf, capf;
  int ncol;              /* expected fields per record, 0 until known */
  char **names;          /* of every field of a record */
  int nout;              /* columns read */
  int *sel;              /* column k of the table is field sel[k] */
  unsigned char stop[256];
  int mapped;            /* the input is a file mapping of ours (see release) */
  tl_error *err;         /* errors other than failures of the input */
  failure fail;
} reader;

/* ---------------------------------------------------------------------------
** Messages
*/

static int is_eol(char c) { return c == '\n' || c == '\r'; }

/* A failure is recorded where it happens and worded later, once the line
** where its chunk starts is known. */
static tl_status fail_in(reader *r, tl_status code, int64_t line, int64_t rec, int fieldno,
                         const char *what, const char *where, int field_only) {
  failure *f = &r->fail;
  f->set = 1;
  f->code = code;
  f->line = line;
  f->rec = rec;
  f->fieldno = fieldno;
  snprintf(f->what, sizeof f->what, "%s", what);
  f->where = where;
  f->field_only = field_only;
  return code;
}

/* A failure of the tokenizer, in the record being read. */
static tl_status fail_at(reader *r, tl_status code, int64_t line, int fieldno,
                         const char *what, const char *where) {
  return fail_in(r, code, line, r->nrec, fieldno, what, where, 0);
}

/* Up to 40 bytes of input from `where` to the end of the line (or of the
** field) into ex, control bytes as '?'; returns the length. */
static size_t excerpt(const reader *r, const char *where, int field_only, char ex[64]) {
  size_t k = 0;
  for (const char *s = where; s && s < r->end && k < 40 && !is_eol(*s) &&
       !(field_only && *s == r->sep); s++)
    ex[k++] = ((unsigned char)*s < 0x20) ? '?' : *s;
  ex[k] = '\0';
  return k;
}

/* Words r's failure into err: "read_csv: NAME:LINE:FIELD (column 'x',
** record N): WHAT: near "excerpt"", its line counted from `line0` and its
** record from `rec0` (the data records before r's start; < 0: r read the
** header, which the message names instead). The excerpt runs to the end of
** the line, or of the field when the failure is about one value. Other
** errors (out of memory) are already worded in r->err. */
static tl_status report(const reader *r, int64_t line0, int64_t rec0, tl_error *err) {
  const failure *f = &r->fail;
  if (!f->set) {
    if (err && r->err && r->err != err) *err = *r->err;
    return r->err ? r->err->code : TL_ENOMEM;
  }
  char place[320], col[256] = "", ex[64];
  if (f->fieldno > 0 && r->names && f->fieldno <= r->ncol)
    snprintf(col, sizeof col, "column '%s', ", r->names[f->fieldno - 1]);
  if (rec0 < 0) snprintf(place, sizeof place, "header");
  else snprintf(place, sizeof place, "%srecord %lld", col, (long long)(rec0 + f->rec + 1));
  size_t k = excerpt(r, f->where, f->field_only, ex);
  long long line = (long long)(f->line + line0);
  if (f->fieldno > 0)
    return tl_error_set(err, f->code, "read_csv: %s:%lld:%d (%s): %s%s%s%s", r->name, line,
                        f->fieldno, place, f->what, k ? ": near \"" : "", ex, k ? "\"" : "");
  return tl_error_set(err, f->code, "read_csv: %s:%lld (%s): %s%s%s%s", r->name, line, place,
                      f->what, k ? ": near \"" : "", ex, k ? "\"" : "");
}

/* ---------------------------------------------------------------------------
** Tokenizer
*/

/* Line ends in [s, e): LF, CRLF and a lone CR each count once. */
static int64_t count_lines(const char *s, const char *e) {
  int64_t n = 0;
  for (; s < e; s++) {
    if (*s == '\n') n++;
    else if (*s == '\r' && (s + 1 == e || s[1] != '\n')) n++;
  }
  return n;
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
static const char *skip_line(reader *r, const char *p) {
  while (p < r->end && !is_eol(*p)) p++;
  if (p < r->end) {
    if (*p == '\r' && p + 1 < r->end && p[1] == '\n') p++;
    p++;
    r->line++;
  }
  return p;
}

static inline int comment_at(const reader *r, const char *p) {
  size_t k = r->ncomment;
  return k && (size_t)(r->end - p) >= k && *p == *r->o->comment &&
         memcmp(p, r->o->comment, k) == 0;
}

/* The end of an unquoted field: the next separator or line end. Sixteen
** bytes at a time where SSE2 is there (every x86-64), a byte at a time
** elsewhere and for the tail. */
static const char *field_end(const reader *r, const char *p, const char *end) {
#ifdef __SSE2__
  const __m128i vsep = _mm_set1_epi8(r->sep), vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vsep), _mm_cmpeq_epi8(v, vlf)),
                               _mm_cmpeq_epi8(v, vcr));
    int m = _mm_movemask_epi8(hit);
    if (m) return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
#endif
  while (p < end && !r->stop[(unsigned char)*p]) p++;
  return p;
}

/* Reads one record into r->f. Returns TL_OK with r->nf > 0, or with
** r->nf == 0 when no record starts before r->until; then r->p is the first
** line start at or past it. Comment lines are skipped, and so are blank
** lines when records have more than one field. A record may run past
** r->until, never past r->end. The first value longer than r->max_field is
** noted in r->big, for the caller to reject the record. */
static tl_status read_record(reader *r) {
  const char *p = r->p, *end = r->end;
  r->nf = 0;
  r->bigno = 0;
  for (;;) {
    if (p >= r->until) { r->p = p; return TL_OK; }
    if (comment_at(r, p) || (is_eol(*p) && r->ncol != 1)) { p = skip_line(r, p); continue; }
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
        const char *c = memchr(q, '"', (size_t)(end - q));
        if (!c) {
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
      const char *s = p;
      p = field_end(r, p, end);
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
static void unescape(char *dst, const field *fd) {
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

/* The CAN_* types the text could be, among those in `can`. */
static unsigned classify(const char *s, size_t n, unsigned can) {
  unsigned r = 0;
  int b;
  int64_t i;
  double d;
  int32_t day;
  if ((can & CAN_BOOL) && tl_parse_bool(s, n, &b)) return CAN_BOOL;
  if (can & (CAN_INT | CAN_FLOAT)) {
    int k = tl_parse_int(s, n, &i);
    if (k == 1) r |= CAN_INT | CAN_FLOAT;
    else if (k == -1) {
      if (tl_parse_float(s, n, &d) && big_int_exact(s, n, d)) r |= CAN_FLOAT;
    } else if ((can & CAN_FLOAT) && tl_parse_float(s, n, &d)) r |= CAN_FLOAT;
  }
  if ((can & (CAN_DATE | CAN_TS)) && n >= 10 && s[4] == '-') {
    if (tl_parse_date(s, n, &day)) r |= CAN_DATE | CAN_TS;
    else if (tl_parse_timestamp(s, n, &i)) r |= CAN_TS;
  }
  return r & can;
}

static unsigned can_of(tl_type t) {
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

/* 1 when a byte of the span is not ASCII: eight bytes at a time. */
static int has_high_byte(const char *s, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    acc |= w;
  }
  for (; i < n; i++) acc |= (unsigned char)s[i];
  return (acc & 0x8080808080808080ull) != 0;
}

/* ---------------------------------------------------------------------------
** The reader
*/

static void reader_free(reader *r) {
  tl_free(r->f);
  tl_free(r->sel);
  if (r->names) {
    for (int j = 0; j < r->ncol; j++) tl_free(r->names[j]);
    tl_free(r->names);
  }
}

/* The separator that occurs most in the first record (outside quotes). */
static char detect_sep(const reader *r) {
  static const char cand[] = { ',', '\t', ';', '|' };
  int64_t count[4] = { 0 };
  int inq = 0;
  const char *p = r->p;
  while (p < r->end && comment_at(r, p)) {
    while (p < r->end && !is_eol(*p)) p++;
    while (p < r->end && is_eol(*p)) p++;
  }
  for (; p < r->end; p++) {
    if (*p == '"') inq = !inq;
    else if (!inq && is_eol(*p)) break;
    else if (!inq)
      for (int k = 0; k < 4; k++) count[k] += *p == cand[k];
  }
  int best = 0;
  for (int k = 1; k < 4; k++)
    if (count[k] > count[best]) best = k;
  return cand[best];
}

/* The names so far, a set by index (idx + 1; 0 is empty); `next` is the
** suffix to try next when the name repeats, so that a header of 100000
** equal names takes linear time. */
typedef struct nslot {
  int idx, next;
} nslot;

static nslot *name_slot(nslot *tab, size_t mask, char *const *names, const char *s) {
  size_t k = (size_t)XXH3_64bits(s, strlen(s)) & mask;
  while (tab[k].idx && strcmp(names[tab[k].idx - 1], s) != 0) k = (k + 1) & mask;
  return &tab[k];
}

/* Column names from the header record (or column1.. without one):
** empty names get their position, a repeated name the first free suffix
** (a, a_2, a_3). */
static tl_status make_names(reader *r, int use_header) {
  r->names = tl_calloc((size_t)r->ncol, sizeof *r->names);
  size_t cap = 16;
  while (cap < 2 * (size_t)r->ncol) cap *= 2;
  nslot *tab = tl_calloc(cap, sizeof *tab);
  if (!r->names || !tab) { tl_free(tab); return tl_error_oom(r->err, "read_csv"); }
  for (int j = 0; j < r->ncol; j++) {
    char buf[64];
    const field *fd = &r->f[j];
    if (use_header && fd->len > 0) {
      r->names[j] = tl_alloc(fd->len + 1);
      if (!r->names[j]) { tl_free(tab); return tl_error_oom(r->err, "read_csv"); }
      unescape(r->names[j], fd);
      r->names[j][fd->len] = '\0';
    } else {
      snprintf(buf, sizeof buf, "column%d", j + 1);
      if (!(r->names[j] = tl_strdup(buf))) { tl_free(tab); return tl_error_oom(r->err, "read_csv"); }
    }
    nslot *sl = name_slot(tab, cap - 1, r->names, r->names[j]);
    if (sl->idx) {
      nslot *base = sl;
      size_t len = strlen(r->names[j]);
      char *nn = tl_alloc(len + 24);
      if (!nn) { tl_free(tab); return tl_error_oom(r->err, "read_csv"); }
      do {
        snprintf(nn, len + 24, "%s_%d", r->names[j], base->next++);
        sl = name_slot(tab, cap - 1, r->names, nn);
      } while (sl->idx);
      tl_free(r->names[j]);
      r->names[j] = nn;
    }
    sl->idx = j + 1;
    sl->next = 2;
  }
  tl_free(tab);
  return TL_OK;
}

static tl_status apply_forced_types(reader *r, colinfo *ci) {
  const tl_csv_options *o = r->o;
  for (int k = 0; k < o->ntypes; k++) {
    int j;
    for (j = 0; j < r->ncol; j++)
      if (strcmp(r->names[j], o->type_names[k]) == 0) break;
    if (j == r->ncol)
      return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: types: unknown column '%s'",
                          r->name, o->type_names[k]);
    if (!tl_type_name(o->types[k]))
      return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: types: bad type for column '%s'",
                          r->name, o->type_names[k]);
    int c;
    for (c = 0; c < r->nout && r->sel[c] != j; c++) {}
    if (c == r->nout) continue;   /* a column not read */
    ci[c].forced = 1;
    ci[c].type = o->types[k];
    ci[c].can = can_of(o->types[k]);
  }
  return TL_OK;
}

/* The edit distance of a and b, case-insensitive, a transposition counting
** one ('yaer' for 'year'), for "did you mean". */
static int distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 1000;
  int d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
      int v = d[i - 1][j - 1] + (ca != cb);
      if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) && (a[i - 2] | 0x20) == cb &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[la][lb];
}

/* r->sel from the columns option (every field when there is none). */
static tl_status select_columns(reader *r) {
  const tl_csv_options *o = r->o;
  int n = o->columns ? o->ncolumns : r->ncol;
  r->sel = tl_alloc(((size_t)n + 1) * sizeof *r->sel);
  if (!r->sel) return tl_error_oom(r->err, "read_csv");
  r->nout = n;
  if (!o->columns) {
    for (int j = 0; j < n; j++) r->sel[j] = j;
    return TL_OK;
  }
  for (int k = 0; k < n; k++) {
    const char *want = o->columns[k] ? o->columns[k] : "";
    int j, best = -1, bestd = ((int)strlen(want) + 1) / 3 + 1;
    for (j = 0; j < r->ncol && strcmp(r->names[j], want) != 0; j++) {
      int d = distance(want, r->names[j]);
      if (d < bestd) { bestd = d; best = j; }
    }
    if (j == r->ncol) {
      if (best >= 0)
        return tl_error_set(r->err, TL_EINVAL,
                            "read_csv: %s: columns: unknown column '%s' (did you mean '%s'?)",
                            r->name, want, r->names[best]);
      return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: columns: unknown column '%s'",
                          r->name, want);
    }
    for (int c = 0; c < k; c++)
      if (r->sel[c] == j)
        return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: columns: '%s' is listed twice",
                            r->name, want);
    r->sel[k] = j;
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Dictionaries. A string column with few distinct values is stored as int32
** codes into a dictionary of them. Pass 1 collects each chunk's distinct
** values (pointers into the input); the chunks' sets are merged in order,
** so codes follow first appearance; pass 2 looks each value up.
*/
#define DICT_MAX 65536

typedef struct dentry {
  const char *p;
  uint32_t len;
  uint64_t h;
} dentry;

typedef struct dset {
  uint32_t *slots;     /* entry index + 1; 0 = empty */
  uint32_t cap;        /* a power of two */
  uint32_t n, ecap;
  dentry *e;
  int dead;            /* not a dictionary column (or not known to be one) */
} dset;

static void dset_kill(dset *d) {
  tl_free(d->slots);
  tl_free(d->e);
  memset(d, 0, sizeof *d);
  d->dead = 1;
}

static int64_t dset_find(const dset *d, const char *p, size_t n, uint64_t h) {
  uint32_t mask = d->cap - 1, k = (uint32_t)h & mask;
  for (;;) {
    uint32_t s = d->slots[k];
    if (!s) return -1;
    const dentry *e = &d->e[s - 1];
    if (e->h == h && e->len == n && memcmp(e->p, p, n) == 0) return s - 1;
    k = (k + 1) & mask;
  }
}

/* Adds a value unless present and sets *idx to its index; kills the set
** past DICT_MAX values. Returns 0, or -1 when out of memory. */
static int dset_add(dset *d, const char *p, size_t n, uint64_t h, int32_t *idx) {
  if (d->dead) return 0;
  int64_t at = d->cap ? dset_find(d, p, n, h) : -1;
  if (at >= 0) { *idx = (int32_t)at; return 0; }
  if (d->n >= DICT_MAX || n > UINT32_MAX) { dset_kill(d); return 0; }
  if ((d->n + 1) * 2 > d->cap) {
    uint32_t ncap = d->cap ? d->cap * 2 : 64;
    uint32_t *ns = tl_calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (uint32_t i = 0; i < d->n; i++) {
      uint32_t k = (uint32_t)d->e[i].h & (ncap - 1);
      while (ns[k]) k = (k + 1) & (ncap - 1);
      ns[k] = i + 1;
    }
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
  d->e[d->n] = (dentry){ p, (uint32_t)n, h };
  uint32_t k = (uint32_t)h & (d->cap - 1);
  while (d->slots[k]) k = (k + 1) & (d->cap - 1);
  *idx = (int32_t)d->n;
  d->slots[k] = ++d->n;
  return 0;
}

/* ---------------------------------------------------------------------------
** Chunks. The records after the header are cut into chunks at line ends
** outside quotes, found by the parity of the quotes before them; each chunk
** is scanned and converted on its own, in parallel. A stray quote in an
** unquoted field or a comment can fool the parity: then a chunk does not
** end where the next begins, which the scan notices, and the input is read
** again as one chunk. So the cut never changes the result. A record
** belongs to the chunk its first byte lies in.
*/
/* A record skipped under TL_CSV_SKIP: pass 1 lists them per chunk in
** record order, and pass 2 skips the same records. */
enum { BAD_FEW, BAD_MANY, BAD_UTF8, BAD_TYPE, BAD_BIG };

typedef struct reject {
  int64_t rec;         /* the record's index in its chunk, rejected ones counted */
  int64_t line;        /* in the chunk */
  int fieldno;
  int cls;             /* BAD_* */
  int field_only;      /* the excerpt is the field, not the rest of the line */
  const char *where;
} reject;

typedef struct job {
  reader r;            /* its own tokenizer state, lines and records counted from 0 */
  const char *start, *stop;
  const char *end;     /* where the last record ended */
  colinfo *ci;         /* what pass 1 learnt of each column */
  int64_t rows, lines, recs;
  int64_t row0;        /* first row, once the chunks before are counted */
  int64_t *bytes0;     /* per column: where its strings start */
  dset *ds;            /* per column: its distinct values */
  uint8_t **lcodes;    /* per column: each row's index in ds, while ds lives */
  uint8_t *lwide;      /* per column: lcodes holds uint16_t, not uint8_t */
  int32_t **remap;     /* per column: ds index -> dictionary code */
  int64_t lcap;        /* rows lcodes have room for */
  reject *rej;
  int64_t nrej, caprej;
  int64_t line0, rec0; /* lines and data records before the chunk, once counted */
  tl_error err;
  tl_status st;
} job;

typedef struct csvrun {
  reader *main;
  job *jobs;
  int njobs;
  colinfo *ci;         /* merged */
  dset *ds;            /* merged, per column */
  tl_column **cols;
  int64_t done;        /* bytes of the pass done, for the progress callback */
  int64_t before, total;   /* bytes before the first chunk, and in all, for it */
  int pass;
  int busy;            /* a progress call is under way */
} csvrun;

/* The number of quote characters in [s, e). */
static int64_t count_quotes(const char *s, const char *e) {
  int64_t n = 0;
  while (s < e && (s = memchr(s, '"', (size_t)(e - s))) != NULL) { n++; s++; }
  return n;
}

/* Lets the kernel drop the pages of [a, b) of a file mapping from the
** process: they stay in the page cache, so reading them again costs a minor
** fault, and the peak memory of a load is the columns plus the chunks in
** flight, not the file. */
static void drop_pages(const reader *r, const char *a, const char *b) {
  if (!r->mapped) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t lo = ((uintptr_t)a + page - 1) & ~(page - 1), hi = (uintptr_t)b & ~(page - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* Cut points: starts[0] = begin, then line starts outside quotes about
** `size` bytes apart, before r->until. */
static tl_status cut(reader *r, const char *begin, size_t size, const char ***out, int *n) {
  int cap = 16, k = 0;
  const char **starts = tl_alloc((size_t)cap * sizeof *starts);
  if (!starts) return tl_error_oom(r->err, "read_csv");
  starts[k++] = begin;
  const char *pos = begin, *end = r->until;
  int64_t quotes = 0;
  while (starts[k - 1] < end && (size_t)(end - starts[k - 1]) > size) {
    const char *target = starts[k - 1] + size;
    quotes += count_quotes(pos, target);
    pos = target;
    const char *at = NULL;
    while (pos < end) {   /* the next line end with an even number of quotes before it */
      const char *nl = pos;
      while (nl < end && !is_eol(*nl)) nl++;
      quotes += count_quotes(pos, nl);
      pos = nl;
      if (nl == end) break;
      pos = nl + 1;
      if (*nl == '\r' && pos < end && *pos == '\n') pos++;
      if ((quotes & 1) == 0) { at = pos; break; }
    }
    if (!at || at >= end) break;
    drop_pages(r, starts[k - 1], at);   /* counting quotes read them: let them go */
    if (k == cap) {
      const char **ns = tl_realloc(starts, (size_t)cap * 2 * sizeof *ns);
      if (!ns) { tl_free(starts); return tl_error_oom(r->err, "read_csv"); }
      starts = ns;
      cap *= 2;
    }
    starts[k++] = at;
  }
  *out = starts;
  *n = k;
  return TL_OK;
}

/* Makes room for `rows` local codes in each column still collecting values. */
static int grow_codes(job *jb, int64_t rows) {
  int64_t cap = jb->lcap ? jb->lcap : 1024;
  while (cap < rows) cap *= 2;
  for (int j = 0; j < jb->r.nout; j++) {
    if (jb->ds[j].dead) continue;
    uint8_t *nc = tl_realloc(jb->lcodes[j], (size_t)cap << jb->lwide[j]);
    if (!nc) return -1;
    jb->lcodes[j] = nc;
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
    return fail_in(r, code, line, rec, fieldno, what, where, field_only);
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

/* Checks a record whose fields fit and whose field count is right: its
** values must be valid UTF-8 and of their column's forced type. Returns
** TL_OK with *ok = 0 when the record was rejected. */
static tl_status check_values(job *jb, int64_t rec, int *ok) {
  reader *r = &jb->r;
  const colinfo *ci = jb->ci;
  *ok = 1;
  for (int k = 0; k < r->nout; k++) {
    int j = r->sel[k];
    const field *fd = &r->f[j];
    if (is_null_field(r, fd)) continue;
    if (has_high_byte(fd->p, fd->n) && !tl_utf8_valid(fd->p, fd->n)) {
      *ok = 0;
      return bad(jb, rec, BAD_UTF8, TL_EPARSE, fd->line, j + 1, "invalid UTF-8", fd->p, 1);
    }
    if (ci[k].forced && ci[k].can &&   /* text with quotes in it is no number */
        (fd->len != fd->n || !classify(fd->p, fd->n, ci[k].can))) {
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

/* Pass 1 over one chunk: checks the field counts, narrows the types and
** counts rows, nulls and string bytes. */
static tl_status scan(job *jb) {
  reader *r = &jb->r;
  colinfo *ci = jb->ci;
  tl_status st = TL_OK;
  int64_t row = 0;
  r->p = jb->start;
  for (;;) {
    if ((r->nrec & 4095) == 0 && tl_interrupted()) { st = tl_error_interrupted(r->err, "read_csv"); break; }
    if ((st = read_record(r)) != TL_OK) break;
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
    for (int k = 0; k < r->nout; k++) {
      const field *fd = &r->f[r->sel[k]];
      colinfo *c = &ci[k];
      if (is_null_field(r, fd)) { c->nulls++; continue; }
      c->values++;
      if (c->can && !c->forced) {
        unsigned was = c->can;
        c->can = fd->len != fd->n ? 0 : classify(fd->p, fd->n, was);
        if (!c->first.p) c->first = *fd;
        for (unsigned b = 0, lost = was & ~c->can; lost; b++, lost >>= 1)
          if (lost & 1) c->kill[b] = *fd;
      }
      c->nbytes += (int64_t)fd->len;
      dset *d = &jb->ds[k];
      if (d->dead) continue;
      /* only values known to be text are collected: a value seen while the
      ** column could still be a number leaves the set incomplete */
      if (c->can || fd->len != fd->n) {
        dset_kill(d);
        tl_free(jb->lcodes[k]);
        jb->lcodes[k] = NULL;
        continue;
      }
      int32_t idx = 0;
      if (row >= jb->lcap && grow_codes(jb, row + 1) != 0) {
        st = tl_error_oom(r->err, "read_csv");
        break;
      }
      if (dset_add(d, fd->p, fd->n, XXH3_64bits(fd->p, fd->n), &idx) != 0) {
        st = tl_error_oom(r->err, "read_csv");
        break;
      }
      if (d->dead) { tl_free(jb->lcodes[k]); jb->lcodes[k] = NULL; }
      else if (set_code(jb, k, row, idx) != 0) {   /* pass 2 maps it to the code, with no hashing */
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

/* Pass 2 over one chunk: values straight into the columns' buffers, which
** are not zeroed beforehand (so that their pages come in as they fill):
** a null gets a zero value. */
static void convert(job *jb, const colinfo *ci, tl_column **cols) {
  reader *r = &jb->r;
  int64_t *pos = jb->bytes0;
  int64_t rec = 0, nx = 0;
  r->p = jb->start;
  r->line = r->nrec = 0;
  for (int64_t row = jb->row0; row < jb->row0 + jb->rows; rec++) {
    if (read_record(r) != TL_OK || r->nf == 0) return;   /* cannot happen: pass 1 read the same */
    if (nx < jb->nrej && jb->rej[nx].rec == rec) { nx++; continue; }
    for (int j = 0; j < r->nout; j++) {
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
        case TL_DATE:
          tl_parse_date(fd->p, fd->n, &((int32_t *)col->values)[row]);
          break;
        case TL_TIMESTAMP:
          tl_parse_timestamp(fd->p, fd->n, &((int64_t *)col->values)[row]);
          break;
        case TL_STRING:
          if (col->dict) {
            ((int32_t *)col->values)[row] = jb->remap[j][get_code(jb, j, row - jb->row0)];
            break;
          }
          unescape(col->bytes + pos[j], fd);
          pos[j] += (int64_t)fd->len;
          ((int64_t *)col->values)[row + 1] = pos[j];
          break;
      }
    }
    row++;
  }
}

/* Drops the chunk's pages, its last record's included. */
static void release(const job *jb) {
  drop_pages(&jb->r, jb->start, jb->end > jb->stop ? jb->end : jb->stop);
}

/* Adds a finished chunk to the bytes done and tells the progress callback,
** unless a call is under way on another thread. */
static void progress(csvrun *run, const job *jb) {
  const tl_csv_options *o = run->main->o;
  if (!o->progress) return;
  int64_t done = __atomic_add_fetch(&run->done, (int64_t)(jb->stop - jb->start), __ATOMIC_RELAXED);
  if (__atomic_exchange_n(&run->busy, 1, __ATOMIC_ACQUIRE)) return;
  o->progress(o->progress_ud, run->pass, done + run->before, run->total);
  __atomic_store_n(&run->busy, 0, __ATOMIC_RELEASE);
}

static void scan_task(void *ctx, int64_t k, int worker) {
  (void)worker;
  csvrun *run = ctx;
  run->jobs[k].st = scan(&run->jobs[k]);
  release(&run->jobs[k]);
  progress(run, &run->jobs[k]);
}

/* Frees what pass 2 of a chunk needed once it is done. */
static void free_codes(job *jb) {
  for (int j = 0; jb->lcodes && j < jb->r.nout; j++) {
    tl_free(jb->lcodes[j]);
    jb->lcodes[j] = NULL;
    if (jb->remap) { tl_free(jb->remap[j]); jb->remap[j] = NULL; }
  }
}

static void convert_task(void *ctx, int64_t k, int worker) {
  (void)worker;
  csvrun *run = ctx;
  convert(&run->jobs[k], run->ci, run->cols);
  free_codes(&run->jobs[k]);
  release(&run->jobs[k]);
  progress(run, &run->jobs[k]);
}

static void free_jobs(job *jobs, int n) {
  for (int k = 0; jobs && k < n; k++) {
    free_codes(&jobs[k]);
    tl_free(jobs[k].r.f);
    tl_free(jobs[k].ci);
    tl_free(jobs[k].bytes0);
    tl_free(jobs[k].rej);
    for (int j = 0; jobs[k].ds && j < jobs[k].r.nout; j++) dset_kill(&jobs[k].ds[j]);
    tl_free(jobs[k].ds);
    tl_free(jobs[k].lcodes);
    tl_free(jobs[k].lwide);
    tl_free(jobs[k].remap);
  }
  tl_free(jobs);
}

/* Sets up one job per cut, each with a copy of the reader's settings. */
static tl_status make_jobs(reader *r, const colinfo *proto, const char *const *starts, int n,
                           job **out) {
  job *jobs = tl_calloc((size_t)n, sizeof *jobs);
  if (!jobs) return tl_error_oom(r->err, "read_csv");
  for (int k = 0; k < n; k++) {
    job *jb = &jobs[k];
    jb->r = *r;
    jb->r.f = NULL;
    jb->r.nf = jb->r.capf = 0;
    jb->r.line = jb->r.nrec = 0;
    jb->r.err = &jb->err;
    jb->start = starts[k];
    jb->stop = k + 1 < n ? starts[k + 1] : r->until;
    jb->r.until = jb->stop;
    jb->ci = tl_alloc(((size_t)r->nout + 1) * sizeof *jb->ci);
    jb->bytes0 = tl_calloc((size_t)r->nout + 1, sizeof *jb->bytes0);
    jb->ds = tl_calloc((size_t)r->nout + 1, sizeof *jb->ds);
    jb->lcodes = tl_calloc((size_t)r->nout + 1, sizeof *jb->lcodes);
    jb->lwide = tl_calloc((size_t)r->nout + 1, sizeof *jb->lwide);
    jb->remap = tl_calloc((size_t)r->nout + 1, sizeof *jb->remap);
    if (!jb->ci || !jb->bytes0 || !jb->ds || !jb->lcodes || !jb->lwide || !jb->remap) {
      free_jobs(jobs, n);
      return tl_error_oom(r->err, "read_csv");
    }
    memcpy(jb->ci, proto, (size_t)r->nout * sizeof *jb->ci);
  }
  *out = jobs;
  return TL_OK;
}

/* Pass 1 over the records from r->p on, cut at about `size` bytes; line0
** is the line of r->p and rec0 the data records before it. Sets *fooled
** when a chunk did not end where the next begins. */
static tl_status scan_all(reader *r, const colinfo *proto, size_t size, csvrun *run,
                          int *fooled, int64_t line0, int64_t rec0, tl_error *err) {
  const char **starts = NULL;
  int n = 0;
  TL_TRY(cut(r, r->p, size, &starts, &n));
  tl_status st = make_jobs(r, proto, starts, n, &run->jobs);
  tl_free(starts);
  if (st != TL_OK) return st;
  run->njobs = n;
  run->pass = 1;
  run->done = 0;
  tl_parallel_for(n, scan_task, run);
  *fooled = 0;
  int64_t line = line0, rec = rec0;
  for (int k = 0; k < n; k++) {   /* in file order: the first failure wins */
    job *jb = &run->jobs[k];
    if (k > 0 && run->jobs[k - 1].end != jb->start) { *fooled = 1; return TL_OK; }
    if (jb->st != TL_OK) return report(&jb->r, line, rec, err);
    jb->line0 = line;
    jb->rec0 = rec;
    line += jb->lines;
    rec += jb->recs;
  }
  return TL_OK;
}

/* Merges the chunks' distinct values of string column j into run->ds[j] and
** makes the dictionary column, when every chunk knew all its values and
** there are few enough of them to pay: *dict stays NULL otherwise. */
static tl_status merge_dict(csvrun *run, int j, int64_t nrows, tl_column **dict) {
  dset *d = &run->ds[j];
  for (int k = 0; k < run->njobs; k++)
    if (run->jobs[k].ds[j].dead) return TL_OK;
  for (int k = 0; k < run->njobs && !d->dead; k++) {
    job *jb = &run->jobs[k];
    const dset *cd = &jb->ds[j];
    int32_t *remap = tl_alloc(((size_t)cd->n + 1) * sizeof *remap);
    if (!remap) return tl_error_oom(run->main->err, "read_csv");
    jb->remap[j] = remap;
    for (uint32_t i = 0; i < cd->n && !d->dead; i++)
      if (dset_add(d, cd->e[i].p, cd->e[i].len, cd->e[i].h, &remap[i]) != 0)
        return tl_error_oom(run->main->err, "read_csv");
  }
  if (d->dead || d->n == 0 || (int64_t)d->n * 2 > nrows) { dset_kill(d); return TL_OK; }
  int64_t nbytes = 0;
  for (uint32_t i = 0; i < d->n; i++) nbytes += d->e[i].len;
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_STRING, d->n, 0, nbytes, &c, run->main->err));
  int64_t *off = c->values, pos = 0;
  for (uint32_t i = 0; i < d->n; i++) {
    memcpy(c->bytes + pos, d->e[i].p, d->e[i].len);
    pos += d->e[i].len;
    off[i + 1] = pos;
  }
  *dict = c;
  return TL_OK;
}

struct tl_csv_info {
  tl_table *rejects;
  char **reasons;
  int ncol;
  int64_t records;
};

void tl_csv_info_free(tl_csv_info *info) {
  if (!info) return;
  tl_table_release(info->rejects);
  for (int j = 0; info->reasons && j < info->ncol; j++) tl_free(info->reasons[j]);
  tl_free(info->reasons);
  tl_free(info);
}

const tl_table *tl_csv_info_rejects(const tl_csv_info *info) { return info->rejects; }

const char *tl_csv_info_reason(const tl_csv_info *info, int j) {
  return j >= 0 && j < info->ncol ? info->reasons[j] : NULL;
}

int64_t tl_csv_info_records(const tl_csv_info *info) { return info->records; }

/* Why an inferred column is not of the type of its first value: the value
** that took away the last of the types preferred to its own. Each bit's
** first killer is known (merged in file order), so that value is the
** latest of them. NULL when the first value decided. */
static tl_status reason_of(const colinfo *c, int infer, char **out) {
  *out = NULL;
  if (c->forced || !infer) return TL_OK;
  if (c->values == 0) {
    *out = tl_strdup("no values to infer from: every field is null");
    return *out ? TL_OK : TL_ENOMEM;
  }
  unsigned below = c->type == TL_STRING ? CAN_ALL : can_of(c->type) - 1, lost = 0;
  const field *last = NULL;
  for (int b = 0; b < NCAN; b++) {
    const field *k = &c->kill[b];
    if (!(below & (1u << b)) || !k->p) continue;
    if (!last || k->p > last->p) { last = k; lost = 1u << b; }
    else if (k->p == last->p) lost |= 1u << b;
  }
  if (!last || last->p == c->first.p) return TL_OK;
  int64_t dummy;
  const char *what = (lost & CAN_FLOAT) ? "is not a number"
                     : (lost & CAN_INT) ? (tl_parse_int(last->p, last->n, &dummy) == -1
                                               ? "does not fit in a 64-bit integer"
                                               : "is not an integer")
                     : (lost & CAN_DATE) ? "is not a date"
                     : (lost & CAN_TS) ? "is not a timestamp" : "is not a boolean";
  char val[64];
  size_t n = 0;
  for (size_t i = 0; i < last->n && n < 40; n++) {   /* the head, doubled quotes undone */
    char ch = last->p[i];
    i += (ch == '"' && last->len != last->n) ? 2 : 1;
    val[n] = (unsigned char)ch < 0x20 ? '?' : ch;
  }
  val[n] = '\0';
  char buf[256];
  snprintf(buf, sizeof buf, "'%s%s' at line %lld %s", val, last->len > n ? "..." : "",
           (long long)last->line, what);
  *out = tl_strdup(buf);
  return *out ? TL_OK : TL_ENOMEM;
}

static const char *const bad_class[] = { "too_few_fields", "too_many_fields", "invalid_utf8",
                                         "forced_type", "field_too_large" };

/* The rejects of every chunk, in file order, as a table. */
static tl_status make_rejects(const reader *r, const csvrun *run, tl_table **out) {
  enum { NC = 6 };
  static const char *const names[NC] = { "line", "record", "field", "column", "class", "excerpt" };
  static const tl_type types[NC] = { TL_INT, TL_INT, TL_INT, TL_STRING, TL_STRING, TL_STRING };
  tl_builder *b[NC] = { NULL };
  tl_column *c[NC] = { NULL };
  tl_status st = TL_OK;
  tl_error *err = r->err;
  int64_t n = 0;
  for (int k = 0; k < run->njobs; k++) n += run->jobs[k].nrej;
  for (int j = 0; j < NC && st == TL_OK; j++) st = tl_builder_new(types[j], n, &b[j], err);
  for (int k = 0; k < run->njobs && st == TL_OK; k++) {
    const job *jb = &run->jobs[k];
    for (int64_t i = 0; i < jb->nrej && st == TL_OK; i++) {
      const reject *x = &jb->rej[i];
      char ex[64];
      size_t len = excerpt(r, x->where, x->field_only, ex);
      const char *cls = bad_class[x->cls];
      st = tl_builder_append_int(b[0], x->line + jb->line0, err);
      if (st == TL_OK) st = tl_builder_append_int(b[1], x->rec + jb->rec0 + 1, err);
      if (st == TL_OK) st = tl_builder_append_int(b[2], x->fieldno, err);
      if (st == TL_OK)
        st = x->fieldno >= 1 && x->fieldno <= r->ncol
                 ? tl_builder_append_string(b[3], r->names[x->fieldno - 1],
                                            strlen(r->names[x->fieldno - 1]), err)
                 : tl_builder_append_null(b[3], err);
      if (st == TL_OK) st = tl_builder_append_string(b[4], cls, strlen(cls), err);
      if (st == TL_OK) st = tl_builder_append_string(b[5], ex, len, err);
    }
  }
  for (int j = 0; j < NC; j++) {
    tl_builder *bj = b[j];
    b[j] = NULL;
    if (st == TL_OK) st = tl_builder_finish(bj, &c[j], err);   /* frees bj */
    else tl_builder_free(bj);
  }
  if (st == TL_OK) st = tl_table_new(NC, names, c, out, err);
  for (int j = 0; j < NC; j++) tl_column_release(c[j]);
  return st;
}

/* Ends the input after the first `max_rows` records, so that the cutting
** and both passes never look past them. */
static void limit_rows(reader *r, int64_t max_rows) {
  const char *p = r->p;
  int64_t line = r->line, n = 0;
  while (n < max_rows) {
    if (read_record(r) != TL_OK) {   /* the passes will report it */
      memset(&r->fail, 0, sizeof r->fail);
      break;
    }
    if (r->nf == 0) break;
    n++;
  }
  if (n == max_rows) r->until = r->end = r->p;
  r->p = p;
  r->line = line;
  r->nrec = 0;
}

/* ---------------------------------------------------------------------------
** Ranges. A reader of bytes [range_start, range_stop) reads the header at
** the input's start as usual. Its first record is the first that starts at
** or after range_start, found from the first line start there that lies
** outside quotes; it reads the records that start before range_stop, the
** last of which may run past it. Outside quotes follows from the parity of
** the quotes before range_start when the caller gives it (range_quotes),
** or from walking the input from the header on as the tokenizer would.
** Parity is exact when every '"' belongs to a quoted field. A stray one
** (in an unquoted field, or a comment) misplaces the cuts after it, so a
** reader given the parity checks the cut it ends at: its last record must
** end where the parity says the next range starts. Its own start is checked
** too when it walks the input to count records.
*/

/* The first '"', LF or CR in [p, end), or end. */
static const char *quote_or_eol(const char *p, const char *end) {
#ifdef __SSE2__
  const __m128i vq = _mm_set1_epi8('"'), vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, vlf)),
                               _mm_cmpeq_epi8(v, vcr));
    int m = _mm_movemask_epi8(hit);
    if (m) return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
#endif
  while (p < end && *p != '"' && !is_eol(*p)) p++;
  return p;
}

/* Line ends that begin in [s, e) of the input at `data`: a CRLF begins at
** its CR, so that the counts of adjacent spans add up. */
static int64_t line_ends(const char *data, const char *s, const char *e) {
  int64_t n = 0;
  for (const char *p = s; p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n += p == data || p[-1] != '\r';
  for (const char *p = s; p < e && (p = memchr(p, '\r', (size_t)(e - p))) != NULL; p++) n++;
  return n;
}

/* line_ends over a span of any size, dropping the pages as it goes. */
static int64_t count_line_ends(const reader *r, const char *s, const char *e) {
  int64_t n = 0;
  while (s < e) {
    const char *b = (size_t)(e - s) > DEFAULT_CHUNK ? s + DEFAULT_CHUNK : e;
    n += line_ends(r->data, s, b);
    drop_pages(r, s, b);
    s = b;
  }
  return n;
}

/* The first line start at or after x (x after the header) that is outside
** quotes, `odd` being the parity of the quotes before x; `limit` when none
** is found before it. */
static const char *find_start(const reader *r, const char *x, int odd, const char *limit) {
  const char *end = r->end;
  if (x >= end) return end;
  if (!odd && is_eol(x[-1]) && !(x[-1] == '\r' && *x == '\n')) return x;
  for (const char *p = x; (p = quote_or_eol(p, limit)) < limit; p++) {
    if (*p == '"') odd ^= 1;
    else if (!odd) {
      if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
      return p + 1;
    }
  }
  return limit;
}

/* Walks the input from p, a line start outside quotes, as the tokenizer
** reads it but without its fields: a quote opens a quoted field only where
** a field starts. Stops at the first line start outside quotes at or after
** `target` (or the end), adding to *lines the line ends on the way and to
** *recs the records that start before it. Drops the pages it has read. */
static const char *walk(const reader *r, const char *p, const char *target, int64_t *lines,
                        int64_t *recs) {
  const char *end = r->end, *dropped = p;
  int64_t nl = 0, nr = 0;
  while (p < target && p < end) {
    if ((size_t)(p - dropped) > DEFAULT_CHUNK) { drop_pages(r, dropped, p); dropped = p; }
    if (comment_at(r, p) || (is_eol(*p) && r->ncol != 1)) {   /* as skip_line */
      while (p < end && !is_eol(*p)) p++;
      if (p < end) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
        p++;
        nl++;
      }
      continue;
    }
    nr++;
    const char *rs = p;
    for (;;) {
      p = quote_or_eol(p, end);
      if (p == end) goto out;
      if (*p == '"') {
        if (p != rs && p[-1] != r->sep) { p++; continue; }   /* text, not a quoted field */
        const char *q = p + 1, *c;
        while ((c = memchr(q, '"', (size_t)(end - q))) != NULL && c + 1 < end && c[1] == '"') {
          nl += count_lines(q, c);
          q = c + 2;
        }
        if (!c) { nl += count_lines(q, end); p = end; goto out; }   /* unterminated */
        nl += count_lines(q, c);
        p = c + 1;
        continue;
      }
      if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
      p++;
      nl++;
      break;
    }
  }
out:
  drop_pages(r, dropped, p);
  *lines += nl;
  *recs += nr;
  return p;
}

static tl_status stray_quote(const reader *r, int64_t line, const char *at) {
  return tl_error_set(r->err, TL_EPARSE,
                      "read_csv: %s:%lld: the quote count at byte %lld does not match the "
                      "records (a '\"' outside a quoted field?); range_quotes = -1 finds "
                      "them exactly", r->name, (long long)line, (long long)(at - r->data));
}

/* Moves r from the first line start after the header to that of the range,
** with r->line there and *rec0 the data records before it, and sets r->until. */
static tl_status seek_range(reader *r, int64_t *rec0) {
  const tl_csv_options *o = r->o;
  int64_t len = (int64_t)(r->end - r->data);
  if (o->range_start < 0 || o->range_stop < 0 || (o->range_stop && o->range_stop < o->range_start))
    return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: bad range [%lld, %lld)", r->name,
                        (long long)o->range_start, (long long)o->range_stop);
  const char *from = r->data + (o->range_start < len ? o->range_start : len);
  const char *to = o->range_stop && o->range_stop < len ? r->data + o->range_stop : r->end;
  const char *head = r->p;
  *rec0 = 0;
  if (from > head) {
    int64_t lines = 0, recs = 0;
    if (o->range_quotes < 0) {
      r->p = walk(r, head, from, &lines, &recs);
      r->line += lines;
    } else {
      int odd = (int)((o->range_quotes - count_quotes(r->data, head)) & 1);
      const char *s = find_start(r, from, odd, r->end);
      int walked = o->range_record <= 0;
      if (walked && walk(r, head, from, &lines, &recs) != s)
        return stray_quote(r, r->line + lines, from);
      if (o->range_line > 0) r->line = o->range_line + line_ends(r->data, from, s);
      else if (walked) r->line += lines;
      else r->line = 1 + count_line_ends(r, r->data, s);
      if (!walked) recs = o->range_record - 1;
      r->p = s;
    }
    *rec0 = recs;
  }
  r->until = to > r->p ? to : r->p;
  return TL_OK;
}

/* Under a given parity: the range's last record, read by the tokenizer,
** must end where the parity says the next range starts. */
static tl_status check_cut(reader *r, const csvrun *run, const char *to) {
  const job *last = &run->jobs[run->njobs - 1];   /* chunks start at an even parity */
  const char *e = last->end;
  int odd = (int)(count_quotes(last->start, to) & 1);
  const char *limit = e < r->end ? e + 1 : r->end;
  if (find_start(r, to, odd, limit) != e) return stray_quote(r, last->line0 + last->lines, to);
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

static tl_status parse(reader *r, tl_table **out, tl_csv_info **info) {
  const tl_csv_options *o = r->o;
  tl_status st;
  if (o->skip < 0 || o->nnulls < 0 || o->ntypes < 0 || o->ncolumns < 0)
    return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: a negative count in the options",
                        r->name);
  /* a UTF-8 byte-order mark */
  if (r->end - r->p >= 3 && memcmp(r->p, "\xEF\xBB\xBF", 3) == 0) r->p += 3;
  for (int k = 0; k < o->skip && r->p < r->end; k++) r->p = skip_line(r, r->p);
  r->sep = o->sep ? o->sep : detect_sep(r);
  if (r->sep == '"' || is_eol(r->sep))
    return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: bad separator", r->name);
  r->stop[(unsigned char)r->sep] = r->stop['\n'] = r->stop['\r'] = 1;
  r->max_field = o->max_field_size ? o->max_field_size : DEFAULT_MAX_FIELD;
  r->until = r->end;

  /* the first record gives the width, and the names when there is a header */
  const char *first = r->p;
  int64_t first_line = r->line;
  if (read_record(r) != TL_OK) return report(r, 0, o->header ? -1 : 0, r->err);
  if (o->header && r->bigno) {
    char what[96];
    snprintf(what, sizeof what, "field of %zu bytes exceeds max_field_size (%zu)", r->big.len,
             r->max_field);
    fail_in(r, TL_ELIMIT, r->big.line, 0, r->bigno, what, r->big.p, 1);
    return report(r, 0, -1, r->err);
  }
  r->ncol = r->nf;
  TL_TRY(make_names(r, o->header));
  if (!o->header) { r->p = first; r->line = first_line; }
  r->nrec = 0;
  TL_TRY(select_columns(r));
  int ranged = o->range_start != 0 || o->range_stop != 0;
  int64_t rec0 = 0;
  if (ranged) TL_TRY(seek_range(r, &rec0));
  const char *to = r->until;
  if (o->max_rows >= 0) limit_rows(r, o->max_rows);

  int nout = r->nout;
  colinfo *proto = tl_calloc((size_t)nout + 1, sizeof *proto);
  if (!proto) return tl_error_oom(r->err, "read_csv");
  for (int j = 0; j < nout; j++) proto[j].can = o->infer ? CAN_ALL : 0;
  if ((st = apply_forced_types(r, proto)) != TL_OK) { tl_free(proto); return st; }

  size_t size = o->chunk_size ? o->chunk_size : DEFAULT_CHUNK;
  const char *origin = ranged ? r->p : r->data;
  csvrun run = { .main = r, .ci = proto, .before = r->p - origin, .total = r->until - origin };
  int fooled = 0;
  st = scan_all(r, proto, size, &run, &fooled, r->line, rec0, r->err);
  if (st == TL_OK && fooled) {   /* read it again as one chunk */
    free_jobs(run.jobs, run.njobs);
    run.jobs = NULL;
    st = scan_all(r, proto, SIZE_MAX, &run, &fooled, r->line, rec0, r->err);
  }
  if (st == TL_OK && ranged && o->range_quotes >= 0 && to < r->end && r->until == to &&
      run.jobs[0].start < to)
    st = check_cut(r, &run, to);
  /* merge what the chunks learnt, and place each chunk's rows and bytes */
  colinfo *ci = proto;
  int64_t nrows = 0, nrej = 0;
  for (int k = 0; k < run.njobs && st == TL_OK; k++) {
    job *jb = &run.jobs[k];
    jb->row0 = nrows;
    nrows += jb->rows;
    nrej += jb->nrej;
    for (int j = 0; j < nout; j++) {
      const colinfo *cj = &jb->ci[j];
      jb->bytes0[j] = ci[j].nbytes;
      ci[j].can &= cj->can;
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

  tl_csv_info *inf = NULL;
  if (st == TL_OK && info) {
    inf = tl_calloc(1, sizeof *inf);
    if (inf) inf->reasons = tl_calloc((size_t)nout + 1, sizeof *inf->reasons);
    if (!inf || !inf->reasons) st = tl_error_oom(r->err, "read_csv");
    if (inf) { inf->ncol = nout; inf->records = nrows + nrej; }
    for (int j = 0; j < nout && st == TL_OK; j++)
      if (reason_of(&ci[j], o->infer, &inf->reasons[j]) != TL_OK) st = tl_error_oom(r->err, "read_csv");
    if (st == TL_OK) st = make_rejects(r, &run, &inf->rejects);
  }

  tl_column **cols = st == TL_OK ? tl_calloc((size_t)nout + 1, sizeof *cols) : NULL;
  char **names = st == TL_OK ? tl_calloc((size_t)nout + 1, sizeof *names) : NULL;
  run.ds = st == TL_OK ? tl_calloc((size_t)nout + 1, sizeof *run.ds) : NULL;
  if (st == TL_OK && (!cols || !names || !run.ds)) st = tl_error_oom(r->err, "read_csv");
  for (int j = 0; j < nout && st == TL_OK; j++)
    if (!(names[j] = tl_strdup(r->names[r->sel[j]]))) st = tl_error_oom(r->err, "read_csv");
  for (int j = 0; j < nout && st == TL_OK; j++) {
    tl_column *dict = NULL;
    int nullable = ci[j].nulls > 0;
    if (ci[j].type == TL_STRING) st = merge_dict(&run, j, nrows, &dict);
    if (st == TL_OK && dict)
      st = alloc_dict(dict, nrows, nullable, &cols[j], r->err);
    else if (st == TL_OK && (ci[j].type == TL_STRING || ci[j].type == TL_BOOL))
      st = tl_column_alloc(ci[j].type, nrows, nullable, ci[j].nbytes, &cols[j], r->err);
    else if (st == TL_OK)   /* pass 2 writes every value */
      st = tl_column_alloc_raw(ci[j].type, nrows, nullable, &cols[j], r->err);
    tl_column_release(dict);
    for (int k = 0; k < run.njobs; k++) {   /* the chunks' sets are merged or of no use */
      dset_kill(&run.jobs[k].ds[j]);
      if (!dict) { tl_free(run.jobs[k].lcodes[j]); run.jobs[k].lcodes[j] = NULL; }
    }
  }
  if (st == TL_OK) drop_pages(r, run.jobs[0].start, r->end);   /* merging read values anywhere */
  if (st == TL_OK) {
    run.cols = cols;
    run.pass = 2;
    run.done = 0;
    tl_parallel_for(run.njobs, convert_task, &run);
    for (int j = 0; j < nout; j++) tl_column_seal(cols[j]);
    st = tl_table_adopt(nout, names, cols, out, r->err);
    cols = NULL;
    names = NULL;
  }
  if (cols) {
    for (int j = 0; j < nout; j++) tl_column_release(cols[j]);
    tl_free(cols);
  }
  if (names) {
    for (int j = 0; j < nout; j++) tl_free(names[j]);
    tl_free(names);
  }
  free_jobs(run.jobs, run.njobs);
  for (int j = 0; run.ds && j < nout; j++) dset_kill(&run.ds[j]);
  tl_free(run.ds);
  tl_free(proto);
  if (st == TL_OK && info) *info = inf;
  else tl_csv_info_free(inf);
  return st;
}

static tl_status read_buffer(const char *data, size_t len, const char *name, int mapped,
                             const tl_csv_options *opts, tl_table **out, tl_csv_info **info,
                             tl_error *err) {
  tl_csv_options defaults;
  if (!opts) { tl_csv_options_init(&defaults); opts = &defaults; }
  if (info) *info = NULL;
  reader r;
  memset(&r, 0, sizeof r);
  r.name = name ? name : "<string>";
  r.data = r.p = data;
  r.end = data + len;
  r.o = opts;
  r.ncomment = opts->comment ? strlen(opts->comment) : 0;
  r.line = 1;
  r.err = err;
  r.mapped = mapped;
  tl_status st = parse(&r, out, info);
  reader_free(&r);
  return st;
}

tl_status tl_read_csv_buffer_ex(const char *data, size_t len, const char *name,
                                const tl_csv_options *opts, tl_table **out, tl_csv_info **info,
                                tl_error *err) {
  return read_buffer(data, len, name, 0, opts, out, info, err);
}

tl_status tl_read_csv_buffer(const char *data, size_t len, const char *name,
                             const tl_csv_options *opts, tl_table **out, tl_error *err) {
  return read_buffer(data, len, name, 0, opts, out, NULL, err);
}

tl_status tl_read_csv(const char *path, const tl_csv_options *opts, tl_table **out,
                      tl_error *err) {
  return tl_read_csv_ex(path, opts, out, NULL, err);
}

tl_status tl_read_csv_ex(const char *path, const tl_csv_options *opts, tl_table **out,
                         tl_csv_info **info, tl_error *err) {
  if (info) *info = NULL;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return tl_error_set(err, TL_EIO, "read_csv: cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
    int e = S_ISDIR(sb.st_mode) ? EISDIR : errno;
    close(fd);
    return tl_error_set(err, TL_EIO, "read_csv: cannot read '%s': %s", path, strerror(e));
  }
  tl_status st;
  if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
      return tl_error_set(err, TL_EIO, "read_csv: cannot map '%s': %s", path, strerror(errno));
    madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
    st = read_buffer(m, (size_t)sb.st_size, path, 1, opts, out, info, err);
    munmap(m, (size_t)sb.st_size);
    return st;
  }
  /* a pipe or an empty file: read it all */
  size_t cap = 1 << 16, len = 0;
  char *buf = tl_alloc(cap);
  if (!buf) { close(fd); return tl_error_oom(err, "read_csv"); }
  for (;;) {
    if (len == cap) {
      char *nb = tl_realloc(buf, cap * 2);
      if (!nb) { tl_free(buf); close(fd); return tl_error_oom(err, "read_csv"); }
      buf = nb;
      cap *= 2;
    }
    ssize_t k = read(fd, buf + len, cap - len);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      int e = errno;
      tl_free(buf);
      close(fd);
      return tl_error_set(err, TL_EIO, "read_csv: cannot read '%s': %s", path, strerror(e));
    }
    if (k == 0) break;
    len += (size_t)k;
  }
  close(fd);
  st = read_buffer(buf, len, path, 0, opts, out, info, err);
  tl_free(buf);
  return st;
}

/* Adds to *q the quotes and to *l the line ends that begin in [s, e),
** `prev` being the byte before s (0: none). With SSE2 each byte lane counts
** its hits (at most 2 a round, so 127 rounds fit a byte) and the lanes are
** summed at the end of each run of rounds. */
static void scan_block(const char *s, const char *e, char prev, int64_t *q, int64_t *l) {
  const char *s0 = s;
  int64_t nq = 0, nl = 0;
#ifdef __SSE2__
  const __m128i vq = _mm_set1_epi8('"'), vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
  const __m128i zero = _mm_setzero_si128();
  __m128i lastcr = _mm_insert_epi16(zero, prev == '\r' ? 0xff00 : 0, 7);   /* lane 15 */
  while (e - s >= 16) {
    __m128i aq = zero, al = zero;
    for (int k = 0; k < 127 && e - s >= 16; k++, s += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
      __m128i cr = _mm_cmpeq_epi8(v, vcr), lf = _mm_cmpeq_epi8(v, vlf);
      __m128i after_cr = _mm_or_si128(_mm_slli_si128(cr, 1), _mm_srli_si128(lastcr, 15));
      aq = _mm_sub_epi8(aq, _mm_cmpeq_epi8(v, vq));
      al = _mm_sub_epi8(al, _mm_add_epi8(cr, _mm_andnot_si128(after_cr, lf)));
      lastcr = cr;
    }
    __m128i sq = _mm_sad_epu8(aq, zero), sl = _mm_sad_epu8(al, zero);
    nq += _mm_cvtsi128_si32(sq) + _mm_extract_epi16(sq, 4);
    nl += _mm_cvtsi128_si32(sl) + _mm_extract_epi16(sl, 4);
  }
#endif
  for (unsigned cr = s > s0 ? s[-1] == '\r' : prev == '\r'; s < e; s++) {
    nq += *s == '"';
    nl += *s == '\r' || (*s == '\n' && !cr);
    cr = *s == '\r';
  }
  *q += nq;
  *l += nl;
}

tl_status tl_csv_scan_range(const char *path, int64_t start, int64_t stop, int64_t *quotes,
                            int64_t *lines, tl_error *err) {
  int64_t q = 0, l = 0;
  if (start < 0 || stop < start)
    return tl_error_set(err, TL_EINVAL, "csv_scan_range: bad range [%lld, %lld)",
                        (long long)start, (long long)stop);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return tl_error_set(err, TL_EIO, "csv_scan_range: cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  int e = fstat(fd, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : S_ISREG(sb.st_mode) ? 0 : EINVAL;
  if (e) {
    close(fd);
    return tl_error_set(err, TL_EIO, "csv_scan_range: cannot read '%s': %s", path, strerror(e));
  }
  if (stop > (int64_t)sb.st_size) stop = (int64_t)sb.st_size;
  if (start > stop) start = stop;
  size_t size = (size_t)1 << 20;
  char *buf = tl_alloc(size);
  if (!buf) { close(fd); return tl_error_oom(err, "csv_scan_range"); }
  char prev = 0;
  int64_t at = start > 0 ? start - 1 : 0;
  while (at < stop) {
    size_t want = (size_t)(stop - at) < size ? (size_t)(stop - at) : size;
    ssize_t k = pread(fd, buf, want, (off_t)at);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      e = k < 0 ? errno : EIO;
      tl_free(buf);
      close(fd);
      return tl_error_set(err, TL_EIO, "csv_scan_range: cannot read '%s': %s", path, strerror(e));
    }
    const char *s = buf;
    if (at < start) { prev = *s++; at++; }   /* the byte before the range: only for a CRLF */
    scan_block(s, buf + k, prev, &q, &l);
    prev = buf[k - 1];
    at += buf + k - s;
  }
  tl_free(buf);
  close(fd);
  if (quotes) *quotes = q;
  if (lines) *lines = l;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Writer
*/

static int needs_quotes(const char *s, size_t n) {
  if (n == 0) return 1;   /* so that an empty string reads back as one, not as null */
  for (size_t i = 0; i < n; i++)
    if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') return 1;
  return 0;
}

static void put_text(FILE *f, const char *s, size_t n) {
  if (!needs_quotes(s, n)) { fwrite(s, 1, n, f); return; }
  putc('"', f);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') putc('"', f);
    putc(s[i], f);
  }
  putc('"', f);
}

tl_status tl_write_csv(const tl_table *t, const char *path, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "write_csv", err));
  tl_status st = tl_table_check_utf8(t, "write_csv", err);   /* read_csv wants UTF-8 */
  if (st != TL_OK)
    return st;
  FILE *f = fopen(path, "wb");
  if (!f)
    return tl_error_set(err, TL_EIO, "write_csv: cannot open '%s': %s", path, strerror(errno));
  char vbuf[1 << 16];
  setvbuf(f, vbuf, _IOFBF, sizeof vbuf);
  for (int j = 0; j < t->ncol; j++) {
    if (j) putc(',', f);
    put_text(f, t->names[j], strlen(t->names[j]));
  }
  putc('\n', f);
  char num[128];
  for (int64_t i = 0; i < t->nrows; i++) {
    for (int j = 0; j < t->ncol; j++) {
      const tl_column *c = t->cols[j];
      if (j) putc(',', f);
      if (tl_column_is_null(c, i)) continue;
      if (c->type == TL_STRING) {
        size_t n;
        const char *s = tl_column_string_at(c, i, &n);
        put_text(f, s, n);
      } else if (c->type == TL_INT) {
        fprintf(f, "%lld", (long long)((const int64_t *)c->values)[i]);
      } else {
        tl_scalar v;
        tl_column_get(c, i, &v);
        size_t n = tl_scalar_format(&v, num, sizeof num);
        fwrite(num, 1, n < sizeof num ? n : sizeof num - 1, f);
      }
    }
    putc('\n', f);
  }
  int bad = ferror(f);
  int e = errno;
  if (fclose(f) != 0 && !bad) { bad = 1; e = errno; }
  if (bad)
    return tl_error_set(err, TL_EIO, "write_csv: cannot write '%s': %s", path, strerror(e));
  return TL_OK;
}
