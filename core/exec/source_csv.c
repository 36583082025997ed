/*
** source_csv.c -- CSV files as a scan's source. The schema comes from a
** sample at each file's start (the types given in `types` forced, the
** others inferred), and the files must agree on it, int widening to float.
** A run cuts each file into byte ranges (morsels) at record starts, found
** on the workers by the parity of the quotes (csv_count.c), or, when a '"'
** outside a quoted field makes that untrustworthy, by one walk of the
** tokenizer over the file (tl_csv_record_starts), so that each range is
** read on its own with the read_csv range options from a record start,
** with exact line and record numbers for messages, every column's type
** forced. A run that reads no column only counts the records.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "source.h"

#define DEFAULT_MORSEL ((int64_t)4 << 20)
#define DEFAULT_SAMPLE ((int64_t)1 << 20)

typedef struct csvsrc {
  int nfiles;
  char **paths;
  int64_t *sizes, total;
  tl_csv_options o;        /* the reading options, with owned copies below */
  char **nulls;
  char *comment;
  int ncol;
  char **names;            /* the schema's, for the forced types */
  tl_type *types;
  int inferred;            /* some types were not given */
} csvsrc;

typedef struct morsel {
  int file;
  int64_t start, stop;     /* record starts; stop 0: to the end */
  int64_t line, record;    /* at start */
  int64_t count;           /* > 0: the records counted, none read (count_file) */
} morsel;

typedef struct crun {
  const csvsrc *c;
  const tl_source_want *want;
  int64_t n;
  morsel *m;
} crun;

static void c_free(tl_source *src) {
  csvsrc *c = src->impl;
  if (c) {
    for (int k = 0; k < c->nfiles; k++) tl_free(c->paths[k]);
    for (int k = 0; k < c->o.nnulls; k++) tl_free(c->nulls[k]);
    for (int k = 0; k < c->ncol; k++) tl_free(c->names[k]);
    tl_free(c->paths);
    tl_free(c->sizes);
    tl_free(c->nulls);
    tl_free(c->comment);
    tl_free(c->names);
    tl_free(c->types);
    tl_free(c);
  }
  tl_free(src);
}

static void c_close(void *run) {
  crun *r = run;
  if (!r) return;
  tl_free(r->m);
  tl_free(r);
}

/* File f cut at the record starts after every `size` bytes. */
static tl_status cut_file(crun *r, int f, int64_t size, tl_error *err) {
  const csvsrc *c = r->c;
  int64_t fsize = c->sizes[f], ncut = fsize > size ? (fsize - 1) / size : 0;
  int64_t *v = tl_calloc(4 * (size_t)ncut + 1, sizeof *v);
  if (!v) return tl_error_oom(err, "scan");
  int64_t *targets = v, *starts = v + ncut, *lines = v + 2 * ncut, *recs = v + 3 * ncut;
  for (int64_t k = 0; k < ncut; k++) targets[k] = (k + 1) * size;
  tl_status st = ncut > INT32_MAX ? tl_error_set(err, TL_ELIMIT, "scan: %s: too many morsels",
                                                 c->paths[f])
               : tl_csv_record_starts(c->paths[f], &c->o, (int)ncut, targets, starts, lines,
                                      recs, err);
  r->m[r->n++] = (morsel){ f, 0, 0, 0, 0, 0 };
  for (int64_t k = 0; st == TL_OK && k < ncut; k++) {
    if (starts[k] >= fsize) break;                    /* the last record began before */
    if (starts[k] == r->m[r->n - 1].start) continue;  /* no record starts in between */
    r->m[r->n - 1].stop = starts[k];
    r->m[r->n++] = (morsel){ f, starts[k], 0, lines[k], recs[k], 0 };
  }
  tl_free(v);
  return st;
}

/* File f's records found in parallel without the tokenizer (csv_count.c):
** a run that needs no column and filters nothing only counts them, the file
** one morsel of its records counted; any other is cut after every `size`
** bytes at the first record start. *done 0 when they cannot be trusted (a
** stray quote), and cut_file walks the file instead. */
static tl_status find_file(crun *r, int f, int64_t size, int *done, tl_error *err) {
  const csvsrc *c = r->c;
  int count = r->want->ncols == 0 && r->want->nfilters == 0;
  int64_t start = 0, n = 0, ncuts = 0;
  tl_csv_span_cut *cuts = NULL;
  *done = 0;
  if (c->o.comment || c->ncol == 1) return TL_OK;   /* a blank line is a record of one column */
  TL_TRY(tl_csv_find_records(c->paths[f], &c->o, c->ncol, size, &start, &n,
                             count ? NULL : &cuts, &ncuts, done, err));
  if (!*done) return TL_OK;
  if (count) {
    if (n > 0) r->m[r->n++] = (morsel){ f, start, 0, 0, 0, n };
    return TL_OK;
  }
  r->m[r->n++] = (morsel){ f, 0, 0, 0, 0, 0 };
  for (int64_t k = 1; k < ncuts; k++) {   /* cuts[0]: morsel 0 reads from the header */
    r->m[r->n - 1].stop = cuts[k].start;
    r->m[r->n++] = (morsel){ f, cuts[k].start, 0, cuts[k].line, cuts[k].record, 0 };
  }
  tl_free(cuts);
  return TL_OK;
}

/* The morsels of every file, cut at record starts. */
static tl_status c_open(const tl_source *src, const tl_source_want *want, void **run,
                        int64_t *nmorsels, tl_error *err) {
  const csvsrc *c = src->impl;
  int64_t size = want->morsel_bytes > 0 ? want->morsel_bytes : DEFAULT_MORSEL, n = 0;
  /* each morsel's batch is made and freed: its memory kept for the next */
  tl_alloc_keep_freed();
  crun *r = tl_calloc(1, sizeof *r);
  *run = r;
  if (!r) return tl_error_oom(err, "scan");
  r->c = c;
  r->want = want;
  for (int f = 0; f < c->nfiles; f++) n += c->sizes[f] / size + 2;
  if (!(r->m = tl_calloc((size_t)n, sizeof *r->m))) return tl_error_oom(err, "scan");
  for (int f = 0; f < c->nfiles; f++) {
    int found;
    TL_TRY(find_file(r, f, size, &found, err));
    if (!found) TL_TRY(cut_file(r, f, size, err));
  }
  *nmorsels = r->n;
  return TL_OK;
}

/* Reads a range from its record start: line and record numbers are exact. */
static tl_status c_read(const tl_source *src, void *run, int64_t k, tl_table **out,
                        tl_error *err) {
  const csvsrc *c = src->impl;
  const crun *r = run;
  const morsel *m = &r->m[k];
  if (m->count > 0) {   /* counted: rows of no column */
    TL_TRY(tl_table_new(0, NULL, NULL, out, err));
    (*out)->nrows = m->count;
    return TL_OK;
  }
  tl_csv_options o = c->o;
  o.columns = r->want->cols;
  o.ncolumns = r->want->ncols;
  o.range_start = m->start;
  o.range_stop = m->stop;
  o.range_quotes = TL_CSV_AT_RECORD;
  o.range_line = m->line;
  o.range_record = m->record;
  tl_status st = tl_read_csv(c->paths[m->file], &o, out, err);
  if (st == TL_ETYPE && c->inferred) {
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof err->message - len,
             " (the scan inferred the types from the start of the input: give them in 'types')");
  }
  return st;
}

static void c_describe(const tl_source *src, tl_textbuf *tb) {
  const csvsrc *c = src->impl;
  tl_textbuf_printf(tb, "csv: %s", c->paths[0]);
  if (c->nfiles > 1) tl_textbuf_printf(tb, " and %d more files", c->nfiles - 1);
  if (c->total < 1000000) tl_textbuf_printf(tb, " (%.1f kB)", (double)c->total / 1e3);
  else tl_textbuf_printf(tb, " (%.1f MB)", (double)c->total / 1e6);
}

static int64_t c_bytes(const tl_source *src, void *run, int64_t k) {
  const csvsrc *c = src->impl;
  const morsel *m = &((const crun *)run)->m[k];
  return (m->stop ? m->stop : c->sizes[m->file]) - m->start;
}

static int64_t c_place(const tl_source *src, void *run, int64_t k, const char **file,
                       int64_t *line) {
  const csvsrc *c = src->impl;
  const morsel *m = &((const crun *)run)->m[k];
  *file = c->paths[m->file];
  *line = m->line;
  return m->record ? m->record - 1 : 0;
}

static void c_explain(const tl_source *src, const tl_source_want *want, tl_textbuf *tb) {
  const csvsrc *c = src->impl;
  if (want->ncols == 0 && want->nfilters == 0 && !c->o.comment && c->ncol != 1)
    tl_textbuf_str(tb, "\n  no column is read: the records are counted, their fields not parsed");
}

static const tl_source_kind csv_kind = { "csv", c_open, c_read, c_close, c_describe, c_free,
                                         c_explain };

int tl_source_is_csv(const tl_source *src) { return src->kind == &csv_kind; }

/* The reading options, with what they point to copied into *nulls and
** *comment (the caller frees them: o->nnulls strings). */
tl_status tl_csv_options_dup(tl_csv_options *o, char ***nulls, char **comment,
                             const tl_csv_options *from, tl_error *err) {
  tl_csv_options_init(o);
  if (!from) return TL_OK;
  if (from->nnulls < 0 || from->ntypes < 0)
    return tl_error_set(err, TL_EINVAL, "scan: a negative count in the options");
  o->sep = from->sep;
  o->header = from->header;
  o->skip = from->skip;
  o->max_field_size = from->max_field_size;
  if (from->comment && !(o->comment = *comment = tl_strdup(from->comment)))
    return tl_error_oom(err, "scan");
  if (from->nnulls) {
    if (!(*nulls = tl_calloc((size_t)from->nnulls, sizeof **nulls)))
      return tl_error_oom(err, "scan");
    for (int k = 0; k < from->nnulls; k++, o->nnulls++)
      if (!((*nulls)[k] = tl_strdup(from->nulls[k]))) return tl_error_oom(err, "scan");
    o->nulls = (const char *const *)*nulls;
  }
  return TL_OK;
}

static tl_status copy_options(csvsrc *c, const tl_csv_options *from, tl_error *err) {
  return tl_csv_options_dup(&c->o, &c->nulls, &c->comment, from, err);
}

/* The sample at the start of file f, its given types forced. */
static tl_status sample(const csvsrc *c, int f, const tl_scan_options *opts, tl_table **out,
                        tl_error *err) {
  tl_csv_options o = c->o;
  const tl_csv_options *u = opts->csv;
  int64_t size = opts->sample_bytes > 0 ? opts->sample_bytes : DEFAULT_SAMPLE;
  if (u) o.type_names = u->type_names, o.types = u->types, o.ntypes = u->ntypes;
  o.range_stop = size < c->sizes[f] ? size : 0;
  return tl_read_csv(c->paths[f], &o, out, err);
}

/* Sizes, samples, and the schema the files agree on. */
static tl_status c_init(csvsrc *c, int npaths, const char *const *paths,
                        const tl_scan_options *opts, tl_table **schema, tl_error *err) {
  c->paths = tl_calloc((size_t)npaths, sizeof *c->paths);
  c->sizes = tl_calloc((size_t)npaths, sizeof *c->sizes);
  if (!c->paths || !c->sizes) return tl_error_oom(err, "scan");
  for (int f = 0; f < npaths; f++) {
    struct stat sb;
    if (!(c->paths[f] = tl_strdup(paths[f]))) return tl_error_oom(err, "scan");
    c->nfiles++;                                   /* freed from here on */
    if (stat(paths[f], &sb) != 0)
      return tl_error_set(err, TL_EIO, "scan: cannot read '%s': %s", paths[f], strerror(errno));
    if (!S_ISREG(sb.st_mode))
      return tl_error_set(err, TL_EIO, "scan: cannot read '%s': %s", paths[f],
                          S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file");
    c->sizes[f] = (int64_t)sb.st_size;
    c->total += c->sizes[f];
  }
  TL_TRY(copy_options(c, opts->csv, err));
  tl_agree ag = {0};
  tl_status st = TL_OK;
  for (int f = 0; f < npaths && st == TL_OK; f++) {
    tl_table *t = NULL;
    st = sample(c, f, opts, &t, err);
    if (st == TL_OK) st = tl_agree_add(&ag, f, c->paths[f], c->paths[0], t, 1, err);
    tl_table_release(t);
  }
  if (st == TL_OK) st = tl_agree_schema(&ag, schema, err);
  c->ncol = ag.ncol;   /* the names and types force the reads' types */
  c->names = ag.names;
  c->types = ag.types;
  tl_free(ag.seen);
  if (st != TL_OK) return st;
  int given = opts->csv ? opts->csv->ntypes : 0;
  c->inferred = given < c->ncol;
  c->o.type_names = (const char *const *)c->names;
  c->o.types = c->types;
  c->o.ntypes = c->ncol;
  return TL_OK;
}

tl_status tl_source_csv(int npaths, const char *const *paths, const tl_scan_options *opts,
                        tl_source **out, tl_error *err) {
  tl_scan_options dflt;
  *out = NULL;
  if (!opts) { tl_scan_options_init(&dflt); opts = &dflt; }
  if (npaths < 1) return tl_error_set(err, TL_EINVAL, "scan: no files");
  tl_source *s = tl_calloc(1, sizeof *s);
  csvsrc *c = tl_calloc(1, sizeof *c);
  if (!s || !c) { tl_free(s); tl_free(c); return tl_error_oom(err, "scan"); }
  s->kind = &csv_kind;
  s->impl = c;
  s->bytes = c_bytes;
  s->place = c_place;
  atomic_init(&s->refs, 1);
  tl_status st = c_init(c, npaths, paths, opts, &s->schema, err);
  if (st != TL_OK) { tl_table_release(s->schema); c_free(s); return st; }
  *out = s;
  return TL_OK;
}
