/*
** csv.c -- reading and writing CSV.
**
** The reader works on the whole input in memory (a file is mapped, not
** copied) in two passes, of which only the first reads the text. The
** records after the header are split at fixed byte offsets into chunks,
** each of which finds its first record on its own, in parallel
** (csv_chunk.c: a guess, checked in file order). Pass 1 reads each chunk's
** records once: it checks the field count, narrows each column's type,
** counts string bytes, and keeps what it read: the numbers, the text of
** string columns, or for one of few distinct values its index in the
** chunk's set of them, and which rows are null. The chunks' findings are
** merged in file order, which settles the types and places each chunk's
** rows; the columns are allocated once at their exact size. Pass 2 places
** what each chunk kept into them, in parallel, and reads a chunk's text
** again only for a column it could not keep (bool, date and timestamp
** columns, or a chunk that took a string column for numbers).
**
** Under TL_CSV_SKIP pass 1 lists the bad records of each chunk, and pass 2
** skips the same ones. Pass 1 also keeps, per column and per candidate
** type, the first value that was not of that type, which is what t:schema()
** gives as the reason for a type.
**
** Memory: a mapped file's pages are dropped as each chunk is done with
** them; between the passes each chunk holds what it kept (4 bytes a row
** for an integer column while its values fit, 8 for a float one, the text
** and 4 bytes a row for a string column, 1 or 2 for one of few values);
** pass 2 frees each chunk's as it places it, and the columns are not zeroed
** when allocated, so their pages come in as pass 2 fills them.
**
** A byte range of the input reads the header at the input's start, then
** only the records whose first byte lies in the range (csv_range.c).
**
** This file drives a load in phases (see "A load") and reads the header;
** the tokenizer and the passes are in csv_read.c (its search for
** separators, line ends and quotes, 64 bytes at a time, in csv_scan.c),
** the rejects and the reasons for the types in csv_reject.c, the writer in
** csv_write.c, and what they share in csv.h.
**
** core/io: files in and out: CSV (this file and csv_*.c), JSON, the Arrow C Data
** Interface, tally's own table file (store.c) and tables found in text
** reports (document.c). Readers parse values with base's parsers; the
** folder stands on base.
*/
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "csv.h"
#include "testing.h"

void tl_csv_options_init(tl_csv_options *o) {
  memset(o, 0, sizeof *o);
  o->header = 1;
  o->infer = 1;
  o->max_rows = -1;
  o->range_quotes = -1;
}

/* ---------------------------------------------------------------------------
** Messages
*/

/* A failure is recorded where it happens and worded later, once the line
** where its chunk starts is known. */
tl_status csv_fail_in(reader *r, tl_status code, int64_t line, int64_t rec, int fieldno,
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

/* Up to 40 bytes of input from `where` to the end of the line (or of the
** field) into ex, control bytes as '?'; returns the length. */
size_t csv_excerpt(const reader *r, const char *where, int field_only, char ex[64]) {
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
tl_status csv_report(const reader *r, int64_t line0, int64_t rec0, tl_error *err) {
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
  size_t k = csv_excerpt(r, f->where, f->field_only, ex);
  long long line = (long long)(f->line + line0);
  if (f->fieldno > 0)
    return tl_error_set(err, f->code, "read_csv: %s:%lld:%d (%s): %s%s%s%s", r->name, line,
                        f->fieldno, place, f->what, k ? ": near \"" : "", ex, k ? "\"" : "");
  return tl_error_set(err, f->code, "read_csv: %s:%lld (%s): %s%s%s%s", r->name, line, place,
                      f->what, k ? ": near \"" : "", ex, k ? "\"" : "");
}

/* ---------------------------------------------------------------------------
** The header: the separator, the names and the columns to read
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
      csv_unescape(r->names[j], fd);
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
    ci[c].can = csv_can_of(o->types[k]);
    ci[c].fmt = o->type_formats ? o->type_formats[k] : NULL;
    ci[c].fmts = csv_fmt_forced(ci[c].fmt);
  }
  return TL_OK;
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
    int j = 0;
    while (j < r->ncol && strcmp(r->names[j], want) != 0) j++;
    if (j == r->ncol) {
      const char *near = tl_suggest(want, (const char *const *)r->names, r->ncol);
      if (near)
        return tl_error_set(r->err, TL_EINVAL,
                            "read_csv: %s: columns: unknown column '%s' (did you mean '%s'?)",
                            r->name, want, near);
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

/* Ends the input after the first `max_rows` records, so that the cutting
** and both passes never look past them. */
static void limit_rows(reader *r, int64_t max_rows) {
  const char *p = r->p;
  int64_t line = r->line, n = 0;
  while (n < max_rows) {
    if (csv_read_record(r) != TL_OK) {   /* the passes will report it */
      memset(&r->fail, 0, sizeof r->fail);
      break;
    }
    if (r->nf == 0) break;
    n++;
  }
  if (n == max_rows) r->until = r->end = r->p;
  r->blk = NULL;   /* its masks may mark bytes past the new end */
  r->p = p;
  r->line = line;
  r->nrec = 0;
}

/* ---------------------------------------------------------------------------
** A load, in phases: the input's start (options, separator), the header,
** the records to read, pass 1 with its merge, the info, the columns and
** pass 2. One cleanup frees what the phases made.
*/

typedef struct load {
  reader *r;
  csvrun run;            /* run.ci: the columns' prototype, then the merge */
  int ranged;
  int64_t rec0;          /* data records before the range */
  const char *to;        /* the range's end, before max_rows */
  int64_t nrows, nrej;
  tl_csv_info *inf;
  tl_column **cols;
  char **names;
} load;

/* Checks the options and moves r past the byte-order mark and the skipped
** lines, with its separator set. */
static tl_status open_input(reader *r) {
  const tl_csv_options *o = r->o;
  if (o->skip < 0 || o->nnulls < 0 || o->ntypes < 0 || o->ncolumns < 0)
    return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: a negative count in the options",
                        r->name);
  /* a UTF-8 byte-order mark */
  if (r->end - r->p >= 3 && memcmp(r->p, "\xEF\xBB\xBF", 3) == 0) r->p += 3;
  for (int k = 0; k < o->skip && r->p < r->end; k++) r->p = csv_skip_line(r, r->p);
  r->sep = o->sep ? o->sep : detect_sep(r);
  if (r->sep == '"' || is_eol(r->sep))
    return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: bad separator", r->name);
  r->stop[(unsigned char)r->sep] = r->stop['\n'] = r->stop['\r'] = 1;
  r->max_field = o->max_field_size ? o->max_field_size : DEFAULT_MAX_FIELD;
  r->until = r->end;
  return TL_OK;
}

/* The first record gives the width, and the names when there is a header. */
static tl_status read_header(reader *r) {
  const tl_csv_options *o = r->o;
  const char *first = r->p;
  int64_t first_line = r->line;
  if (csv_read_record(r) != TL_OK) return csv_report(r, 0, o->header ? -1 : 0, r->err);
  if (o->header && r->bigno) {
    char what[96];
    snprintf(what, sizeof what, "field of %zu bytes exceeds max_field_size (%zu)", r->big.len,
             r->max_field);
    csv_fail_in(r, TL_ELIMIT, r->big.line, 0, r->bigno, what, r->big.p, 1);
    return csv_report(r, 0, -1, r->err);
  }
  r->ncol = r->nf;
  TL_TRY(make_names(r, o->header));
  if (!o->header) { r->p = first; r->line = first_line; }
  r->nrec = 0;
  return select_columns(r);
}

/* Moves r to the range's first record and ends it after max_rows; sets up
** the columns' prototype: every type possible, or the forced one. */
static tl_status find_records(load *ld) {
  reader *r = ld->r;
  const tl_csv_options *o = r->o;
  ld->ranged = o->range_start != 0 || o->range_stop != 0;
  if (ld->ranged) TL_TRY(csv_seek_range(r, &ld->rec0));
  ld->to = r->until;
  if (o->max_rows >= 0) limit_rows(r, o->max_rows);
  colinfo *proto = tl_calloc((size_t)r->nout + 1, sizeof *proto);
  if (!proto) return tl_error_oom(r->err, "read_csv");
  ld->run.ci = proto;
  for (int j = 0; j < r->nout; j++) {
    proto[j].can = o->infer ? CAN_ALL : 0;
    proto[j].fmts = csv_fmt_init(o);
  }
  return apply_forced_types(r, proto);
}

/* Pass 1, in chunks; then the chunks' findings merged. */
static tl_status pass1(load *ld) {
  reader *r = ld->r;
  const tl_csv_options *o = r->o;
  csvrun *run = &ld->run;
  int64_t knob = tl_testing_get(TL_KNOB_CSV_CHUNK);   /* a test's, down to 1 byte */
  size_t size = knob > 0 ? (size_t)knob : DEFAULT_CHUNK;
  const char *origin = ld->ranged ? r->p : r->data;
  run->before = r->p - origin;
  run->total = r->until - origin;
  run->count_quotes = ld->ranged && o->range_quotes >= 0 && ld->to < r->end && r->until == ld->to;
  tl_status st = csv_scan_all(r, run->ci, size, run, r->line, ld->rec0, r->err);
  if (st == TL_OK && ld->ranged && o->range_quotes >= 0 && ld->to < r->end &&
      r->until == ld->to && run->jobs[0].start < ld->to)
    st = csv_check_cut(r, run, ld->to);
  if (st == TL_OK) csv_merge_scans(run, &ld->nrows, &ld->nrej);
  return st;
}

/* The columns, allocated at their final size, and their names. */
static tl_status make_columns(load *ld) {
  reader *r = ld->r;
  int nout = r->nout;
  ld->cols = tl_calloc((size_t)nout + 1, sizeof *ld->cols);
  ld->names = tl_calloc((size_t)nout + 1, sizeof *ld->names);
  if (!ld->cols || !ld->names) return tl_error_oom(r->err, "read_csv");
  for (int j = 0; j < nout; j++)
    if (!(ld->names[j] = tl_strdup(r->names[r->sel[j]]))) return tl_error_oom(r->err, "read_csv");
  return csv_make_columns(&ld->run, ld->nrows, ld->cols);
}

/* Pass 2, and the table, which takes the columns and names. */
static tl_status pass2(load *ld, tl_table **out) {
  int nout = ld->r->nout;
  csv_convert_all(&ld->run, ld->cols);
  for (int j = 0; j < nout; j++) tl_column_seal(ld->cols[j]);
  tl_status st = tl_table_adopt(nout, ld->names, ld->cols, out, ld->r->err);
  if (st == TL_OK && nout == 0) (*out)->nrows = ld->nrows;   /* columns = {}: rows of none */
  ld->cols = NULL;
  ld->names = NULL;
  return st;
}

static void load_free(load *ld) {
  int nout = ld->r->nout;
  if (ld->cols) {
    for (int j = 0; j < nout; j++) tl_column_release(ld->cols[j]);
    tl_free(ld->cols);
  }
  if (ld->names) {
    for (int j = 0; j < nout; j++) tl_free(ld->names[j]);
    tl_free(ld->names);
  }
  csv_free_run(&ld->run);
  tl_free(ld->run.ci);
}

static tl_status parse(reader *r, tl_table **out, tl_csv_info **info) {
  load ld;
  memset(&ld, 0, sizeof ld);
  ld.r = r;
  ld.run.main = r;
  tl_status st = open_input(r);
  if (st == TL_OK) st = read_header(r);
  if (st == TL_OK) st = find_records(&ld);
  if (st == TL_OK) st = pass1(&ld);
  if (st == TL_OK && info) st = csv_make_info(r, &ld.run, ld.nrows + ld.nrej, &ld.inf);
  if (st == TL_OK) st = make_columns(&ld);
  if (st == TL_OK) st = pass2(&ld, out);
  load_free(&ld);
  if (st == TL_OK && info) *info = ld.inf;
  else tl_csv_info_free(ld.inf);
  return st;
}

static tl_status read_text(const char *data, size_t len, const char *name, int mapped,
                           const tl_csv_options *opts, tl_table **out, tl_csv_info **info,
                           tl_error *err);

/* Compressed input (csv_unzip.c): its text, read as the file would be. A
** byte range of the compressed bytes means nothing: refused. */
static tl_status read_compressed(const char *data, size_t len, int kind, const char *name,
                                 const tl_csv_options *opts, tl_table **out,
                                 tl_csv_info **info, tl_error *err) {
  if (opts && (opts->range_start || opts->range_stop))
    return tl_error_set(err, TL_EINVAL, "read_csv: %s: a byte range (range_start, range_stop) "
                        "needs an uncompressed file", name ? name : "<string>");
  char *text = NULL;
  size_t n = 0;
  tl_status st = tl_csv_decompress(data, len, kind, name ? name : "<string>", &text, &n, err);
  if (st == TL_OK) st = read_text(text, n, name, 0, opts, out, info, err);
  tl_free(text);
  return st;
}

/* r over data[0, len), as `name` in messages, read by opts. */
static void reader_init(reader *r, const char *data, size_t len, const char *name,
                        const tl_csv_options *opts, tl_error *err) {
  memset(r, 0, sizeof *r);
  r->name = name;
  r->data = r->p = data;
  r->end = data + len;
  r->o = opts;
  r->ncomment = opts->comment ? strlen(opts->comment) : 0;
  r->line = 1;
  r->err = err;
}

/* The input as it is: compressed (gzip or zstd by its first bytes) or text. */
static tl_status read_buffer(const char *data, size_t len, const char *name, int mapped,
                             const tl_csv_options *opts, tl_table **out, tl_csv_info **info,
                             tl_error *err) {
  if (info) *info = NULL;
  int kind = tl_csv_compression(data, len);
  if (kind) return read_compressed(data, len, kind, name, opts, out, info, err);
  return read_text(data, len, name, mapped, opts, out, info, err);
}

static tl_status read_text(const char *data, size_t len, const char *name, int mapped,
                           const tl_csv_options *opts, tl_table **out, tl_csv_info **info,
                           tl_error *err) {
  tl_csv_options defaults;
  if (!opts) { tl_csv_options_init(&defaults); opts = &defaults; }
  if (info) *info = NULL;
  reader r;
  reader_init(&r, data, len, name ? name : "<string>", opts, err);
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

/* The walk of tl_csv_record_starts over a mapped file. */
static tl_status record_starts(reader *r, int n, const int64_t *targets, int64_t *starts,
                               int64_t *lines, int64_t *records) {
  TL_TRY(open_input(r));
  TL_TRY(read_header(r));
  const char *p = r->p;
  int64_t line = r->line, recs = 0, len = (int64_t)(r->end - r->data);
  for (int k = 0; k < n; k++) {
    if (tl_interrupted()) return tl_error_interrupted(r->err, "read_csv");
    const char *target = r->data + (targets[k] < len ? (targets[k] > 0 ? targets[k] : 0) : len);
    if (target > p) p = csv_walk(r, p, target, &line, &recs);
    starts[k] = p - r->data;
    lines[k] = line;
    records[k] = recs + 1;
  }
  return TL_OK;
}

tl_status tl_csv_record_starts(const char *path, const tl_csv_options *opts, int n,
                               const int64_t *targets, int64_t *starts, int64_t *lines,
                               int64_t *records, tl_error *err) {
  tl_csv_options defaults;
  if (!opts) { tl_csv_options_init(&defaults); opts = &defaults; }
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return tl_error_set(err, TL_EIO, "read_csv: cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0) {
    close(fd);
    for (int k = 0; k < n; k++) starts[k] = 0, lines[k] = 1, records[k] = 1;
    return TL_OK;   /* nothing to cut: the reader of the whole says what is wrong */
  }
  void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED)
    return tl_error_set(err, TL_EIO, "read_csv: cannot map '%s': %s", path, strerror(errno));
  madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
  reader r;
  reader_init(&r, m, (size_t)sb.st_size, path, opts, err);
  r.mapped = 1;
  tl_status st = record_starts(&r, n, targets, starts, lines, records);
  reader_free(&r);
  munmap(m, (size_t)sb.st_size);
  return st;
}

tl_status tl_csv_cut(const char *data, size_t len, const char *name, const tl_csv_options *opts,
                     size_t *from, int64_t *line0, size_t target, size_t *cut, int64_t *lines,
                     int64_t *records, tl_error *err) {
  reader r;
  reader_init(&r, data, len, name, opts, err);
  tl_status st = len ? open_input(&r) : TL_OK;
  if (st == TL_OK && len) st = read_header(&r);
  if (st == TL_OK) {
    if (*from == 0) { *from = (size_t)(r.p - data); *line0 = r.line; }
    const char *p = data + *from, *t = data + (target < len ? target : len);
    *lines = *records = 0;
    *cut = (size_t)((t > p ? csv_walk(&r, p, t, lines, records) : p) - data);
  }
  reader_free(&r);
  return st;
}

tl_status csv_data_start(const char *data, size_t len, const char *name,
                         const tl_csv_options *opts, size_t *start, int64_t *line, char *sep,
                         tl_error *err) {
  reader r;
  reader_init(&r, data, len, name, opts, err);
  tl_status st = open_input(&r);
  if (st == TL_OK) st = read_header(&r);
  if (st == TL_OK) {
    *start = (size_t)(r.p - data);
    *line = r.line;
    *sep = r.sep;
  }
  reader_free(&r);
  return st;
}
