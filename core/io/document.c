/*
** document.c -- tables out of plain-text documents: blocks of separated
** lines, their titles, headers of several rows, and cells that carry units,
** footnote marks, thousands separators and month-year dates.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/parse.h"
#include "base/error.h"
#include "document.h"
#include "tally/tally.h"

#define OP "read_document"

/* A header has at most MAX_HEADER_ROWS rows (the rows after them are data),
** and a column name, its levels joined, at most MAX_NAME bytes: a name is
** made of cells copied to the right over a span, so without these a small
** document could ask for names of quadratic size. */
#define MAX_HEADER_ROWS 16
#define MAX_NAME 4096
/* A table is as wide as its longest row, the shorter ones padded with
** nulls: one long row over many short ones would make a table far larger
** than the document. Past MAX_PAD_CELLS cells, a table holds at most
** PAD_FACTOR times the cells its rows have. */
#define MAX_PAD_CELLS ((uint64_t)1 << 22)
#define PAD_FACTOR 16

typedef struct span { const char *p; size_t n; } span;

typedef struct line {
  const char *p;
  size_t n;                  /* without the line break */
  int has_sep;
  int used;                  /* part of a table */
} line;

typedef struct row {
  int64_t lineno;            /* 1-based */
  int ncells;                /* trailing blank cells dropped */
  int nonblank;
  span *cells;
} row;

enum { K_NULL, K_TEXT, K_BOOL, K_INT, K_FLOAT, K_DATE, K_TS };

typedef struct cellval {
  int kind;
  int b;
  int64_t i;                 /* K_INT, K_TS */
  double f;
  int32_t d;
  span unit;                 /* n == 0: none */
} cellval;

typedef struct entry {
  tl_table *t;
  char *title;
  int64_t title_line, first_line, last_line;
  int header_rows;
  int ncol;
  char **units;
} entry;

struct tl_document {
  int n, cap;
  entry *e;
};

typedef struct reader {
  const char *name;
  char sep;
  line *lines;
  int64_t nlines;
  tl_document *doc;
  tl_error *err;
  uint64_t steps;            /* rows, cells and bytes looked at: linear in the input */
  int64_t seen;              /* lines before this one are looked at for titles, */
  int64_t last_text;         /* and the last of them that is not blank (-1: none) */
} reader;

void tl_document_options_init(tl_document_options *o) {
  memset(o, 0, sizeof *o);
  o->sep = '\t';
}

/* ---------------------------------------------------------------------------
** Text helpers
*/

/* ASCII white space, and U+00A0 (no-break space) as its two UTF-8 bytes. */
static size_t space_at(const char *p, const char *end) {
  unsigned char c = (unsigned char)*p;
  if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') return 1;
  if (c == 0xc2 && p + 1 < end && (unsigned char)p[1] == 0xa0) return 2;
  return 0;
}

static span trim(const char *p, size_t n) {
  const char *s = p, *e = p + n;
  size_t w;
  while (s < e && (w = space_at(s, e)) > 0) s += w;
  for (;;) {
    if (e > s && space_at(e - 1, e) == 1) e--;
    else if (e - s >= 2 && space_at(e - 2, e) == 2) e -= 2;
    else break;
  }
  span r = { s, (size_t)(e - s) };
  return r;
}

static int is_blank(const char *p, size_t n) { return trim(p, n).n == 0; }

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* ---------------------------------------------------------------------------
** Cells
*/

/* "June", "jun", "Jun.", "Sept": the month 1..12, else 0. */
static int month_of(const char *s, size_t n) {
  static const char *const names[] = { "january", "february", "march", "april", "may", "june",
                                       "july", "august", "september", "october", "november",
                                       "december" };
  char w[16];
  if (n < 3 || n >= sizeof w) return 0;
  for (size_t i = 0; i < n; i++) w[i] = (char)lower((unsigned char)s[i]);
  w[n] = '\0';
  if (strcmp(w, "sept") == 0) return 9;
  for (int m = 0; m < 12; m++)
    if (strcmp(w, names[m]) == 0 || (n == 3 && strncmp(w, names[m], 3) == 0)) return m + 1;
  return 0;
}

/* "June 1990", "Feb. 2018", "Feb.2018", "June, 1990": the first of that
** month. */
static int month_date(const char *s, size_t n, int32_t *out) {
  size_t i = 0, k;
  while (i < n && is_alpha((unsigned char)s[i])) i++;
  int m = month_of(s, i);
  if (!m) return 0;
  k = i;
  if (k < n && (s[k] == '.' || s[k] == ',')) k++;
  size_t sp = k;
  while (k < n && s[k] == ' ') k++;
  if (k == sp && (k == i || s[k - 1] != '.')) return 0;   /* "June1990" is not a date */
  if (n - k != 4) return 0;
  int y = 0;
  for (size_t j = k; j < n; j++) {
    if (!is_digit((unsigned char)s[j])) return 0;
    y = y * 10 + (s[j] - '0');
  }
  if (y < 1000) return 0;
  *out = tl_days_from_civil(y, m, 1);
  return 1;
}

/* A number at the start of s: [sign] digits, with ',' between groups of
** three when it has them, [. digits]. Copies it without the commas into
** buf and returns the length it spans, 0 when there is none. */
static size_t number_prefix(const char *s, size_t n, char *buf, size_t cap, size_t *blen) {
  size_t i = 0, o = 0, lead = 0;
  if (n && (s[0] == '-' || s[0] == '+')) buf[o++] = s[i++];
  while (i < n && is_digit((unsigned char)s[i]) && o + 1 < cap) { buf[o++] = s[i++]; lead++; }
  if (lead == 0) return 0;
  if (i < n && s[i] == ',' && lead <= 3) {
    while (i + 3 < n && s[i] == ',' && is_digit((unsigned char)s[i + 1]) &&
           is_digit((unsigned char)s[i + 2]) && is_digit((unsigned char)s[i + 3]) &&
           (i + 4 == n || !is_digit((unsigned char)s[i + 4])) && o + 4 < cap) {
      memcpy(buf + o, s + i + 1, 3);
      o += 3;
      i += 4;
    }
    if (i < n && s[i] == ',' && i + 1 < n && is_digit((unsigned char)s[i + 1]))
      return 0;                                  /* "1,23": not thousands */
  }
  if (i + 1 < n && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
    buf[o++] = s[i++];
    while (i < n && is_digit((unsigned char)s[i]) && o + 1 < cap) buf[o++] = s[i++];
  }
  if (o + 1 >= cap) return 0;                    /* a numeral too long to be a count */
  buf[o] = '\0';
  *blen = o;
  return i;
}

static int number(const char *s, size_t n, cellval *v) {
  int64_t i;
  int k = tl_parse_int(s, n, &i);
  if (k == 1) { v->kind = K_INT; v->i = i; return 1; }
  if (tl_parse_float(s, n, &v->f)) { v->kind = K_FLOAT; return 1; }
  return 0;
}

/* "1,234", "6 persons", "11persons", "12%": a number, and its unit word. */
static int number_unit(const char *s, size_t n, cellval *v) {
  char buf[64];
  size_t blen, k = number_prefix(s, n, buf, sizeof buf, &blen);
  if (k == 0 || !number(buf, blen, v)) return 0;
  if (k == n) return 1;
  size_t u = k;
  while (u < n && s[u] == ' ') u++;
  if (n - u == 1 && s[u] == '%') { v->unit.p = s + u; v->unit.n = 1; return 1; }
  for (size_t j = u; j < n; j++)
    if (!is_alpha((unsigned char)s[j])) return 0;
  if (u == n) return 0;
  v->unit.p = s + u;
  v->unit.n = n - u;
  return 1;
}

/* A value of any kind but text, from the whole span. */
static int value(const char *s, size_t n, cellval *v) {
  int64_t ts;
  memset(v, 0, sizeof *v);
  if (tl_parse_bool(s, n, &v->b)) { v->kind = K_BOOL; return 1; }
  if (number(s, n, v)) return 1;
  if (tl_parse_date(s, n, &v->d)) { v->kind = K_DATE; return 1; }
  if (tl_parse_timestamp(s, n, &ts)) { v->kind = K_TS; v->i = ts; return 1; }
  if (month_date(s, n, &v->d)) { v->kind = K_DATE; return 1; }
  return number_unit(s, n, v);
}

/* Drops one footnote mark from the end: '*', '†', '‡', or "(a)", "(12)",
** "[1]" after a space or not. Returns 1 when it dropped one. */
static int drop_footnote(span *s) {
  const char *p = s->p;
  size_t n = s->n;
  if (n >= 1 && p[n - 1] == '*') n--;
  else if (n >= 3 && (unsigned char)p[n - 3] == 0xe2 && (unsigned char)p[n - 2] == 0x80 &&
           ((unsigned char)p[n - 1] == 0xa0 || (unsigned char)p[n - 1] == 0xa1)) n -= 3;
  else if (n >= 3 && (p[n - 1] == ')' || p[n - 1] == ']')) {
    char open = p[n - 1] == ')' ? '(' : '[';
    size_t j = n - 1;
    while (j > 0 && j + 4 >= n && (is_alpha((unsigned char)p[j - 1]) || is_digit((unsigned char)p[j - 1])))
      j--;
    if (j == 0 || j == n - 1 || p[j - 1] != open) return 0;
    n = j - 1;
  } else {
    return 0;
  }
  while (n > 0 && p[n - 1] == ' ') n--;
  if (n == 0) return 0;
  s->n = n;
  return 1;
}

/* Only a span ending in a digit, a letter, '.' or '%' can be a value (a
** bool, a number, a date or a number with its unit). drop_footnote takes
** only from a span that ends in none of them, so of the spans it leaves
** at most the last is worth a look: "1 aaa" followed by a thousand '*'
** is looked at twice, not a thousand times. */
static int may_be_value(span t) {
  int c = (unsigned char)t.p[t.n - 1];
  return is_digit(c) || is_alpha(c) || c == '.' || c == '%';
}

static void classify(reader *r, span s, cellval *v) {
  memset(v, 0, sizeof *v);
  if (s.n == 0) { v->kind = K_NULL; return; }
  r->steps += s.n;
  if (value(s.p, s.n, v)) return;
  span t = s;
  while (drop_footnote(&t)) {
    r->steps++;
    if (!may_be_value(t)) continue;
    r->steps += t.n;
    if (value(t.p, t.n, v)) return;
  }
  memset(v, 0, sizeof *v);
  v->kind = K_TEXT;
}

/* Data-like: a cell holds a number or a date. */
static int data_like(reader *rd, const row *r) {
  for (int j = 0; j < r->ncells; j++) {
    cellval v;
    classify(rd, r->cells[j], &v);
    if (v.kind == K_INT || v.kind == K_FLOAT || v.kind == K_DATE || v.kind == K_TS) return 1;
  }
  return 0;
}

static span cell(const row *r, int j) {
  static const span none = { "", 0 };
  return j < r->ncells ? r->cells[j] : none;
}

/* ---------------------------------------------------------------------------
** Rows and lines
*/

static void free_rows(row *rows, int64_t n) {
  if (!rows) return;
  for (int64_t i = 0; i < n; i++) tl_free(rows[i].cells);
  tl_free(rows);
}

static tl_status split_row(reader *r, const line *ln, int64_t lineno, row *out) {
  int n = 1;
  for (size_t i = 0; i < ln->n; i++) n += ln->p[i] == r->sep;
  out->cells = tl_calloc((size_t)n, sizeof *out->cells);
  if (!out->cells) return tl_error_oom(r->err, OP);
  const char *s = ln->p, *end = ln->p + ln->n;
  int k = 0;
  for (;;) {
    const char *e = memchr(s, r->sep, (size_t)(end - s));
    if (!e) e = end;
    span c = trim(s, (size_t)(e - s));
    if (!tl_utf8_valid(c.p, c.n)) {
      tl_free(out->cells);   /* the caller keeps nothing of a failed row */
      out->cells = NULL;
      return tl_error_set(r->err, TL_EPARSE, OP ": %s:%lld:%d: invalid UTF-8", r->name,
                          (long long)lineno, k + 1);
    }
    out->cells[k++] = c;
    if (e == end) break;
    s = e + 1;
  }
  out->lineno = lineno;
  while (k > 0 && out->cells[k - 1].n == 0) k--;   /* trailing separators */
  out->ncells = k;
  out->nonblank = 0;
  for (int j = 0; j < k; j++) out->nonblank += out->cells[j].n > 0;
  return TL_OK;
}

/* The one non-blank cell of a row. */
static span only_cell(const row *r) {
  for (int j = 0; j < r->ncells; j++)
    if (r->cells[j].n) return r->cells[j];
  return cell(r, 0);
}

/* ---------------------------------------------------------------------------
** Building one table
*/

static tl_status add_entry(reader *r, entry *e) {
  tl_document *d = r->doc;
  if (d->n == d->cap) {
    int cap = d->cap ? d->cap * 2 : 4;
    entry *ne = tl_realloc(d->e, (size_t)cap * sizeof *ne);
    if (!ne) return tl_error_oom(r->err, OP);
    d->e = ne;
    d->cap = cap;
  }
  d->e[d->n++] = *e;
  return TL_OK;
}

static void free_entry(entry *e) {
  tl_table_release(e->t);
  tl_free(e->title);
  if (e->units)
    for (int j = 0; j < e->ncol; j++) tl_free(e->units[j]);
  tl_free(e->units);
}

/* Column names from header rows h[0..nh): a blank cell of a level above
** the last is covered by the cell to its left (a span), up to where a level
** above starts a new span; the levels are joined with a space. */
/* The slot of `s` in a set of names by index (idx + 1; 0 is empty). */
static int *name_slot(int *tab, size_t mask, char *const *names, const char *s) {
  uint64_t hash = 1469598103934665603u;
  for (const char *p = s; *p; p++) hash = (hash ^ (unsigned char)*p) * 1099511628211u;
  size_t k = (size_t)hash & mask;
  while (tab[k] && strcmp(names[tab[k] - 1], s) != 0) k = (k + 1) & mask;
  return &tab[k];
}

static tl_status header_names(reader *r, const row *h, int nh, int ncol, char **names) {
  span *cur = tl_calloc((size_t)nh * (size_t)ncol, sizeof *cur);
  /* the names so far, and per name the next suffix to try: a header of
  ** many equal names takes linear time */
  size_t cap = 16;
  while (cap < 2 * (size_t)ncol) cap *= 2;
  int *tab = tl_calloc(cap, sizeof *tab), *next = tl_calloc((size_t)ncol + 1, sizeof *next);
  /* above[j]: a level above the current one names column j (a boundary) */
  char *above = tl_calloc((size_t)ncol, 1);
  if (!cur || !tab || !next || !above) {
    tl_free(cur); tl_free(tab); tl_free(next); tl_free(above);
    return tl_error_oom(r->err, OP);
  }
  r->steps += (uint64_t)nh * (uint64_t)ncol;
  for (int l = 0; l < nh; l++) {
    for (int j = 0; j < ncol; j++) {
      span c = cell(&h[l], j);
      if (c.n == 0 && j > 0 && l < nh - 1 && !above[j]) c = cur[l * ncol + j - 1];
      cur[l * ncol + j] = c;
    }
    for (int j = 0; j < ncol; j++) above[j] |= cell(&h[l], j).n > 0;
  }
  tl_free(above);
  tl_status st = TL_OK;
  for (int j = 0; j < ncol && st == TL_OK; j++) {
    size_t len = 0;   /* of the name: the levels, a space between two */
    for (int l = 0; l < nh; l++)
      if (cur[l * ncol + j].n) len += cur[l * ncol + j].n + (len > 0);
    if (len > MAX_NAME) {
      st = tl_error_set(r->err, TL_ELIMIT,
                        OP ": %s:%lld: the name of column %d is longer than %d bytes",
                        r->name, (long long)h[0].lineno, j + 1, MAX_NAME);
      break;
    }
    char *nm = tl_alloc(len + 32);
    if (!nm) { st = tl_error_oom(r->err, OP); break; }
    size_t o = 0;
    for (int l = 0; l < nh; l++) {
      span c = cur[l * ncol + j];
      if (!c.n) continue;
      if (o) nm[o++] = ' ';
      memcpy(nm + o, c.p, c.n);
      o += c.n;
    }
    nm[o] = '\0';
    o = strlen(nm);   /* a cell may hold a NUL byte: the suffix goes where the name ends */
    if (o == 0) o = (size_t)snprintf(nm, 32, "column_%d", j + 1);
    /* a name taken by an earlier column gets a suffix: "x_2" */
    int *slot = name_slot(tab, cap - 1, names, nm);
    if (*slot) {
      int base = *slot - 1;
      do {
        snprintf(nm + o, 32, "_%d", next[base]++);
        slot = name_slot(tab, cap - 1, names, nm);
      } while (*slot);
    }
    names[j] = nm;
    *slot = j + 1;
    next[j] = 2;
  }
  tl_free(cur);
  tl_free(tab);
  tl_free(next);
  return st;
}

/* The unit of a column: the cells' units must agree, "person" with
** "persons" (the longer one is kept). Returns 0 when they do not. */
static int merge_unit(span *u, span v) {
  if (v.n == 0) return 1;
  if (u->n == 0) { *u = v; return 1; }
  if (u->n == v.n && memcmp(u->p, v.p, v.n) == 0) return 1;
  const span *lo = u->n < v.n ? u : &v, *hi = u->n < v.n ? &v : u;
  if (hi->n == lo->n + 1 && memcmp(hi->p, lo->p, lo->n) == 0 && hi->p[lo->n] == 's') {
    *u = *hi;
    return 1;
  }
  return 0;
}

/* Column j of the data rows d[0..nd), typed by what its cells hold. */
static tl_status build_column(reader *r, const row *d, int64_t nd, int j, tl_column **out,
                              char **unit) {
  int seen[K_TS + 1] = { 0 };
  span u = { NULL, 0 };
  int units_agree = 1;
  cellval v;
  for (int64_t i = 0; i < nd; i++) {
    if ((i & 0xffff) == 0 && tl_interrupted()) return tl_error_interrupted(r->err, OP);
    classify(r, cell(&d[i], j), &v);
    seen[v.kind] = 1;
    if (!merge_unit(&u, v.unit)) units_agree = 0;
  }
  tl_type type = TL_STRING;
  int numeric = seen[K_INT] || seen[K_FLOAT], dated = seen[K_DATE] || seen[K_TS];
  if (!seen[K_TEXT] && units_agree) {
    if (seen[K_BOOL] && !numeric && !dated) type = TL_BOOL;
    else if (!seen[K_BOOL] && numeric && !dated) type = seen[K_FLOAT] ? TL_FLOAT : TL_INT;
    else if (!seen[K_BOOL] && dated && !numeric) type = seen[K_TS] ? TL_TIMESTAMP : TL_DATE;
  }
  *unit = NULL;
  if ((type == TL_INT || type == TL_FLOAT) && u.n) {
    *unit = tl_strndup(u.p, u.n);
    if (!*unit) return tl_error_oom(r->err, OP);
  }
  tl_builder *b;
  TL_TRY(tl_builder_new(type, nd, &b, r->err));
  tl_status st = TL_OK;
  for (int64_t i = 0; i < nd && st == TL_OK; i++) {
    if ((i & 0xffff) == 0 && tl_interrupted()) { st = tl_error_interrupted(r->err, OP); break; }
    span c = cell(&d[i], j);
    classify(r, c, &v);
    if (v.kind == K_NULL) { st = tl_builder_append_null(b, r->err); continue; }
    switch (type) {
      case TL_BOOL: st = tl_builder_append_bool(b, v.b, r->err); break;
      case TL_INT: st = tl_builder_append_int(b, v.i, r->err); break;
      case TL_FLOAT:
        st = tl_builder_append_float(b, v.kind == K_INT ? (double)v.i : v.f, r->err);
        break;
      case TL_DATE: st = tl_builder_append_date(b, v.d, r->err); break;
      case TL_TIMESTAMP:
        st = tl_builder_append_timestamp(b, v.kind == K_DATE ? (int64_t)v.d * 86400000000LL
                                                             : v.i, r->err);
        break;
      default: st = tl_builder_append_string(b, c.p, c.n, r->err); break;
    }
  }
  if (st != TL_OK) {
    tl_builder_free(b);
    tl_free(*unit);
    *unit = NULL;
    return st;
  }
  st = tl_builder_finish(b, out, r->err);
  if (st != TL_OK) { tl_free(*unit); *unit = NULL; }
  return st;
}

static tl_status make_table(reader *r, const row *rows, int nh, int64_t nd, entry *e) {
  int ncol = 0;
  uint64_t have = 0;
  for (int64_t i = 0; i < nh + nd; i++) {
    if (rows[i].ncells > ncol) ncol = rows[i].ncells;
    have += (uint64_t)rows[i].ncells;
  }
  if (ncol == 0) ncol = 1;
  uint64_t cells = (uint64_t)ncol * (uint64_t)(nh + nd);
  if (cells > MAX_PAD_CELLS && cells / PAD_FACTOR > have)
    return tl_error_set(r->err, TL_ELIMIT,
                        OP ": %s:%lld-%lld: a table of %d columns and %lld rows from rows of "
                        "%llu cells in all: more than %d times as many, padded with nulls",
                        r->name, (long long)rows[0].lineno, (long long)rows[nh + nd - 1].lineno,
                        ncol, (long long)(nh + nd), (unsigned long long)have, PAD_FACTOR);
  char **names = tl_calloc((size_t)ncol, sizeof *names);
  tl_column **cols = tl_calloc((size_t)ncol, sizeof *cols);
  e->units = tl_calloc((size_t)ncol, sizeof *e->units);
  e->ncol = ncol;
  tl_status st = (!names || !cols || !e->units) ? tl_error_oom(r->err, OP) : TL_OK;
  if (st == TL_OK) st = header_names(r, rows, nh, ncol, names);
  for (int j = 0; j < ncol && st == TL_OK; j++)
    st = build_column(r, rows + nh, nd, j, &cols[j], &e->units[j]);
  if (st == TL_OK) st = tl_table_new(ncol, (const char *const *)names, cols, &e->t, r->err);
  for (int j = 0; j < ncol; j++) {
    if (names) tl_free(names[j]);
    if (cols) tl_column_release(cols[j]);
  }
  tl_free(names);
  tl_free(cols);
  return st;
}

/* Row h (below header row h - 1) is a lower level of the header: its first
** cell is blank and it names a column the level above leaves blank. */
static int sub_level(const row *rows, int64_t h, int ncol) {
  if (cell(&rows[h], 0).n) return 0;
  if (rows[h].ncells < ncol) ncol = rows[h].ncells;   /* cells past its own are blank */
  for (int j = 1; j < ncol; j++)
    if (cell(&rows[h - 1], j).n == 0 && cell(&rows[h], j).n) return 1;
  return 0;
}

/* The nearest non-blank line above line index `at`, when it is a title: not
** part of a table, with a single non-blank cell. `at` grows from call to
** call, so the lines are looked at once each, however many blank ones
** (blocks of blank cells among them) there are. */
static tl_status title_above(reader *r, int64_t at, entry *e) {
  for (; r->seen < at; r->seen++, r->steps++)
    if (!is_blank(r->lines[r->seen].p, r->lines[r->seen].n)) r->last_text = r->seen;
  int64_t i = r->last_text;
  if (i < 0 || r->lines[i].used) return TL_OK;
  row tr;
  TL_TRY(split_row(r, &r->lines[i], i + 1, &tr));
  if (tr.nonblank == 1) {
    span c = only_cell(&tr);
    e->title = tl_strndup(c.p, c.n);
    e->title_line = i + 1;
  }
  tl_free(tr.cells);
  if (tr.nonblank == 1 && !e->title) return tl_error_oom(r->err, OP);
  return TL_OK;
}

/* The tables of the block of lines [b0, b1). Each row is classified once
** (dl: data-like), and each is looked at a bounded number of times. */
static tl_status read_block(reader *r, int64_t b0, int64_t b1) {
  int64_t n = b1 - b0, i = 0;
  row *rows = tl_calloc((size_t)n, sizeof *rows);
  char *dl = tl_calloc((size_t)n, 1);
  if (!rows || !dl) {
    tl_free(rows);
    tl_free(dl);
    return tl_error_oom(r->err, OP);
  }
  tl_status st = TL_OK;
  for (int64_t k = 0; k < n && st == TL_OK; k++) {
    if ((k & 0xffff) == 0 && tl_interrupted()) { st = tl_error_interrupted(r->err, OP); break; }
    st = split_row(r, &r->lines[b0 + k], b0 + k + 1, &rows[k]);
    if (st == TL_OK) dl[k] = (char)data_like(r, &rows[k]);
  }
  int first = 1;
  while (st == TL_OK && i < n) {
    entry e;
    memset(&e, 0, sizeof e);
    if (rows[i].nonblank == 1 && i + 1 < n) {   /* the block's own title line */
      span c = only_cell(&rows[i]);
      e.title = tl_strndup(c.p, c.n);
      e.title_line = rows[i].lineno;
      if (!e.title) { st = tl_error_oom(r->err, OP); break; }
      i++;
    } else if (first) {
      st = title_above(r, b0 + i, &e);
      if (st != TL_OK) break;
    }
    first = 0;
    int64_t start = i, end = i + 1;
    /* the table ends before a single-cell line followed by a header line */
    int data = 0;
    for (; end < n; end++, r->steps++) {
      if (rows[end].nonblank == 1 && data && end + 1 < n && rows[end + 1].nonblank > 1 &&
          !dl[end + 1])
        break;
      data |= dl[end];
    }
    /* the header goes on while a data-like row is still to come (below
    ** `last`, the last data-like row of the table) or the row is a lower
    ** level of it */
    int ncol = 0;
    int64_t last = start;
    for (int64_t k = start; k < end; k++, r->steps++) {
      if (rows[k].ncells > ncol) ncol = rows[k].ncells;
      if (dl[k]) last = k;
    }
    int64_t h = start + 1;
    while (h < end && h - start < MAX_HEADER_ROWS) {
      r->steps += (uint64_t)rows[h].ncells + 1;  /* sub_level reads the row's cells */
      int later = !dl[h] && last > h;
      if (!later && !sub_level(rows, h, ncol)) break;
      h++;
    }
    i = end;
    if (end - start < 2) {                       /* one line is not a table */
      tl_free(e.title);
      continue;
    }
    e.header_rows = (int)(h - start);
    e.first_line = rows[start].lineno;
    e.last_line = rows[end - 1].lineno;
    st = make_table(r, rows + start, e.header_rows, end - h, &e);
    if (st == TL_OK) st = add_entry(r, &e);
    if (st != TL_OK) { free_entry(&e); break; }
    for (int64_t k = start; k < end; k++) r->lines[b0 + k].used = 1;
    if (e.title_line >= b0 + 1 && e.title_line <= b1) r->lines[e.title_line - 1].used = 1;
  }
  free_rows(rows, n);
  tl_free(dl);
  return st;
}

/* ---------------------------------------------------------------------------
** The document
*/

void tl_document_free(tl_document *d) {
  if (!d) return;
  for (int k = 0; k < d->n; k++) free_entry(&d->e[k]);
  tl_free(d->e);
  tl_free(d);
}

tl_status tl_read_document_buffer(const char *text, size_t len, const char *name,
                                  const tl_document_options *opts, tl_document **out,
                                  tl_error *err) {
  return tl_read_document_steps(text, len, name, opts, out, NULL, err);
}

tl_status tl_read_document_steps(const char *text, size_t len, const char *name,
                                 const tl_document_options *opts, tl_document **out,
                                 uint64_t *steps, tl_error *err) {
  reader r;
  memset(&r, 0, sizeof r);
  r.name = name ? name : "<text>";
  r.sep = opts && opts->sep ? opts->sep : '\t';
  r.err = err;
  r.last_text = -1;
  if (r.sep == '\n' || r.sep == '\r' || r.sep == ' ')
    return tl_error_set(err, TL_EINVAL, OP ": %s: the separator cannot be a space or a line break",
                        r.name);
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { text += 3; len -= 3; }
  int64_t nl = 1;
  for (size_t i = 0; i < len; i++) nl += text[i] == '\n';
  r.lines = tl_calloc((size_t)nl, sizeof *r.lines);
  r.doc = tl_calloc(1, sizeof *r.doc);
  if (!r.lines || !r.doc) {
    tl_free(r.lines);
    tl_free(r.doc);
    return tl_error_oom(err, OP);
  }
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    const char *next = e ? e + 1 : end;
    if (!e) e = end;
    if (e > p && e[-1] == '\r') e--;
    line *ln = &r.lines[r.nlines++];
    ln->p = p;
    ln->n = (size_t)(e - p);
    ln->has_sep = memchr(p, r.sep, ln->n) != NULL;
    p = next;
  }
  tl_status st = TL_OK;
  for (int64_t i = 0; i < r.nlines && st == TL_OK;) {
    if ((i & 0xffff) == 0 && tl_interrupted()) { st = tl_error_interrupted(err, OP); break; }
    if (!r.lines[i].has_sep) { i++; continue; }
    int64_t j = i;
    while (j < r.nlines && r.lines[j].has_sep) j++;
    st = read_block(&r, i, j);
    i = j;
  }
  tl_free(r.lines);
  if (steps) *steps = r.steps + (uint64_t)r.nlines;
  if (st != TL_OK) { tl_document_free(r.doc); return st; }
  *out = r.doc;
  return TL_OK;
}

tl_status tl_read_document(const char *path, const tl_document_options *opts,
                           tl_document **out, tl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return tl_error_set(err, TL_EIO, OP ": cannot open '%s': %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = tl_alloc(cap);
  if (!buf) { fclose(f); return tl_error_oom(err, OP); }
  for (;;) {
    if (len == cap) {
      char *nb = cap > ((size_t)-1) / 2 ? NULL : tl_realloc(buf, cap * 2);
      if (!nb) { tl_free(buf); fclose(f); return tl_error_oom(err, OP); }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + len, 1, cap - len, f);
    len += k;
    if (k == 0) break;
  }
  if (ferror(f)) {
    int e = errno;
    tl_free(buf);
    fclose(f);
    return tl_error_set(err, TL_EIO, OP ": cannot read '%s': %s", path, strerror(e));
  }
  fclose(f);
  tl_status st = tl_read_document_buffer(buf, len, path, opts, out, err);
  tl_free(buf);
  return st;
}

int tl_document_count(const tl_document *d) { return d->n; }

tl_table *tl_document_table(const tl_document *d, int k) {
  return k >= 0 && k < d->n ? d->e[k].t : NULL;
}

const char *tl_document_title(const tl_document *d, int k) {
  return k >= 0 && k < d->n ? d->e[k].title : NULL;
}

void tl_document_lines(const tl_document *d, int k, int64_t *title_line, int64_t *first,
                       int64_t *last) {
  const entry *e = k >= 0 && k < d->n ? &d->e[k] : NULL;
  if (title_line) *title_line = e ? e->title_line : 0;
  if (first) *first = e ? e->first_line : 0;
  if (last) *last = e ? e->last_line : 0;
}

int tl_document_header_rows(const tl_document *d, int k) {
  return k >= 0 && k < d->n ? d->e[k].header_rows : 0;
}

const char *tl_document_unit(const tl_document *d, int k, int j) {
  if (k < 0 || k >= d->n || j < 0 || j >= d->e[k].ncol) return NULL;
  return d->e[k].units[j];
}
