/*
** dist_csv.c -- tl_dist_read_csv: each rank reads its span of the bytes of
** the files. The spans tile the files taken as one stream; a rank reads the
** records that start in its span (tl_csv_options' ranges), told by the
** ranks before it the quote parity and line number at its first byte, so
** every record is read by exactly one rank. The ranks then agree on the
** columns' names and types, as one reader of the whole would have them.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dist.h"

/* Where a rank's span of the files ends, for the ranks after it. */
typedef struct cut {
  int64_t file;            /* the last file the span touches; -1: none */
  int64_t quotes, lines;   /* in the span's part of that file */
} cut;

typedef struct reader {
  tl_dist *d;
  int nfiles;
  const char *const *paths;
  const tl_csv_options *opts;
  int64_t *sizes, lo, hi;  /* the files' sizes; this rank's span [lo, hi) */
  cut *cuts;               /* every rank's */
  tl_table **rejects;      /* the last share's, one a part read (nfiles + 1) */
  int *rejfile;            /* the file of each, or -1 when numbered from its start */
  int nrejects;
  int64_t records;         /* the last share's */
  int64_t *filerecs;       /* the last share's records, by file */
} reader;

static tl_status oom(tl_error *err) { return tl_error_set(err, TL_ENOMEM, "read_csv: out of memory"); }

/* This rank's part [from, to) of file f, or 0 when it has none. */
static int part(const reader *rd, int f, int64_t *from, int64_t *to) {
  int64_t at = 0;
  for (int k = 0; k < f; k++) at += rd->sizes[k];
  *from = rd->lo > at ? rd->lo - at : 0;
  *to = rd->hi < at + rd->sizes[f] ? rd->hi - at : rd->sizes[f];
  return *from < *to;
}

/* Reads bytes [from, to) of file f (to 0: to its end). The quote parity and
** line number at the cut come from the ranks before; records are numbered
** from the cut (range_record 1), which spares a walk over the bytes before
** it. On an error the range is read again the exact way (range_quotes -1:
** the reader walks from the file's start), so the message names the record
** as a single read would, and a '"' outside quotes that fooled the parity
** is read right. `types`: forced types, or NULL. */
static tl_status read_range(reader *rd, int f, int64_t from, int64_t to, int64_t quotes,
                            int64_t line, const tl_csv_options *types, tl_table **out,
                            tl_error *err) {
  tl_csv_options o = *(types ? types : rd->opts);
  tl_status st = TL_OK;
  tl_csv_info *info = NULL;
  o.range_start = from;
  o.range_stop = to;
  int exact = 0;
  for (; exact < 2; exact++) {
    o.range_quotes = from > 0 && !exact ? (int)(quotes & 1) : -1;
    o.range_line = from > 0 && !exact ? line : 0;
    o.range_record = from > 0 && !exact ? 1 : 0;
    st = tl_read_csv_ex(rd->paths[f], &o, out, &info, err);
    if (st == TL_OK || from == 0) break;   /* read from the start: already exact */
  }
  if (st == TL_OK) {   /* what it skipped, kept for the share */
    rd->records += tl_csv_info_records(info);
    rd->filerecs[f] += tl_csv_info_records(info);
    rd->rejfile[rd->nrejects] = from > 0 && !exact ? f : -1;
    rd->rejects[rd->nrejects++] = tl_table_retain((tl_table *)tl_csv_info_rejects(info));
  }
  tl_csv_info_free(info);
  return st;
}

static void drop_rejects(reader *rd) {
  for (int k = 0; k < rd->nrejects; k++) tl_table_release(rd->rejects[k]);
  rd->nrejects = 0;
  rd->records = 0;
  for (int f = 0; f < rd->nfiles; f++) rd->filerecs[f] = 0;
}

/* This rank's parts of the files, concatenated. A rank with no part reads
** the first file's header only. */
static tl_status read_share(reader *rd, const tl_csv_options *types, tl_table **out,
                            tl_error *err) {
  drop_rejects(rd);
  tl_table **ts = calloc((size_t)rd->nfiles + 1, sizeof *ts);
  int nread = 0;
  tl_status st = ts ? TL_OK : oom(err);
  *out = NULL;
  for (int f = 0; f < rd->nfiles && st == TL_OK; f++) {
    int64_t from, to, quotes = 0, lines = 0;
    if (!part(rd, f, &from, &to)) continue;
    for (int r = 0; r < rd->d->rank; r++)   /* what the ranks before saw of this file */
      if (rd->cuts[r].file == f) quotes += rd->cuts[r].quotes, lines += rd->cuts[r].lines;
    st = read_range(rd, f, from, to == rd->sizes[f] ? 0 : to, quotes, from ? lines + 1 : 0,
                    types, &ts[nread], err);
    if (st == TL_OK && nread > 0 && tl_table_nrows(ts[nread]) == 0)
      tl_table_release(ts[nread]), ts[nread] = NULL;   /* no records: its types say nothing */
    else if (st == TL_OK && nread == 1 && tl_table_nrows(ts[0]) == 0)
      tl_table_release(ts[0]), ts[0] = ts[1], ts[1] = NULL;
    else
      nread += st == TL_OK;
  }
  if (st == TL_OK && nread == 0) {
    st = read_range(rd, 0, rd->sizes[0], 0, 0, 0, types, &ts[0], err);
    nread = st == TL_OK;
  }
  if (st == TL_OK && nread == 1) *out = ts[0], ts[0] = NULL;
  else if (st == TL_OK) st = tl_table_concat(nread, (const tl_table *const *)ts, out, err);
  for (int k = 0; ts && k < nread; k++) tl_table_release(ts[k]);
  free(ts);
  return st;
}

/* A hash of a table's column names, to check that the ranks agree. */
static uint64_t names_hash(const tl_table *t) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    for (const char *p = tl_table_name(t, j); ; p++) {
      h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
      if (!*p) break;
    }
  }
  return h;
}

/* The ranks' shares must have the same columns. A share without rows that
** lacks them (its range held no record, and without a header there is
** nothing else to name the columns) takes them from the lowest rank with
** rows: *t is replaced by an empty table of that schema. */
static tl_status agree_columns(tl_dist *d, tl_table **t, tl_error *err) {
  uint64_t mine[2] = { names_hash(*t), (uint64_t)tl_table_nrows(*t) };
  uint64_t *all = malloc(2 * (size_t)d->size * sizeof *all);
  tl_status st = tl_dist_agree(d, all ? TL_OK : oom(err), err);
  if (st != TL_OK) return free(all), st;
  d->tr->allgather(d->tr->ud, mine, sizeof mine, all);
  int model = -1, differ = 0;
  for (int r = 0; r < d->size; r++) {
    if (!all[2 * r + 1]) continue;
    if (model < 0) model = r;
    else differ |= all[2 * r] != all[2 * model];
  }
  if (differ) {
    tl_error_set(err, TL_EINVAL, "tally.mpi.read_csv: the ranks' shares do not "
                 "have the same columns (the files' headers differ)");
  }
  int need = model >= 0 && mine[0] != all[2 * model];
  free(all);
  st = tl_dist_agree(d, differ ? TL_EINVAL : TL_OK, err);
  if (st != TL_OK || model < 0) return st;   /* no rows anywhere: every rank read the same header */
  int64_t needed = need;
  d->tr->allreduce(d->tr->ud, &needed, 1, TL_DIST_MAX);
  if (!needed) return TL_OK;
  tl_table *empty = NULL, *got = NULL;
  void *buf = NULL;
  size_t len = 0;
  tl_dist_shares *s = NULL;
  if (d->rank == model) {
    st = tl_table_slice(*t, 0, 0, &empty, err);
    if (st == TL_OK) st = tl_table_encode(empty, &buf, &len, err);
    tl_table_release(empty);
  }
  st = tl_dist_agree(d, st, err);
  if (st == TL_OK) st = tl_dist_exchange(d, buf, len, &s, err);
  if (st == TL_OK && need) st = tl_table_decode(s->at[model], s->len[model], "read_csv", &got, err);
  if (st == TL_OK && need) tl_table_release(*t), *t = got;
  tl_dist_shares_free(s);
  tl_free(buf);
  return tl_dist_agree(d, st, err);
}

/* A column type the ranks agree on, from each rank's (type, 1 when it saw a
** value): the narrowest that holds every rank's values, as one reader of
** the whole would have inferred. */
static int agreed_type(const int32_t *all, int ncol, int j, int n) {
  int t = 0, mixed = 0;
  for (int r = 0; r < n; r++) {
    int ty = all[(size_t)r * 2 * (size_t)ncol + 2 * (size_t)j];
    if (!all[(size_t)r * 2 * (size_t)ncol + 2 * (size_t)j + 1]) continue;
    if (!t) { t = ty; continue; }
    if (ty == t) continue;
    if ((t == TL_INT || t == TL_FLOAT) && (ty == TL_INT || ty == TL_FLOAT)) t = TL_FLOAT;
    else if ((t == TL_DATE || t == TL_TIMESTAMP) && (ty == TL_DATE || ty == TL_TIMESTAMP))
      t = TL_TIMESTAMP;
    else mixed = 1;
  }
  if (mixed) return TL_STRING;
  return t ? t : all[2 * (size_t)j];
}

/* The ranks agree on the column types; a rank that inferred another type
** reads its share again with the agreed ones forced (the caller's own
** forced types win). */
static tl_status agree_types(reader *rd, tl_table **t, tl_error *err) {
  tl_dist *d = rd->d;
  int ncol = tl_table_ncols(*t), nown = rd->opts->ntypes, differ = 0;
  int32_t *mine = malloc((size_t)(2 * ncol + 1) * sizeof *mine);
  int32_t *all = malloc((size_t)(2 * ncol + 1) * (size_t)d->size * sizeof *all);
  const char **names = malloc((size_t)(ncol + nown + 1) * sizeof *names);
  tl_type *types = malloc((size_t)(ncol + nown + 1) * sizeof *types);
  tl_status st = tl_dist_agree(d, mine && all && names && types ? TL_OK : oom(err), err);
  if (st == TL_OK) {
    for (int j = 0; j < ncol; j++) {
      const tl_column *c = tl_table_column(*t, j);
      mine[2 * j] = (int32_t)tl_column_type(c);
      mine[2 * j + 1] = tl_column_null_count(c) < tl_column_length(c);
    }
    d->tr->allgather(d->tr->ud, mine, (size_t)(2 * ncol) * sizeof *mine, all);
    int n = 0;
    for (int j = 0; j < ncol; j++) {
      int want = agreed_type(all, ncol, j, d->size);
      differ |= want != mine[2 * j];
      names[n] = tl_table_name(*t, j);
      types[n++] = (tl_type)want;
    }
    for (int k = 0; k < nown; k++) {   /* the caller's own win */
      int j = 0;
      while (j < ncol && strcmp(names[j], rd->opts->type_names[k]) != 0) j++;
      if (j == ncol) names[n] = rd->opts->type_names[k], types[n++] = rd->opts->types[k];
      else types[j] = rd->opts->types[k];
    }
    tl_table *again = NULL;
    tl_csv_options forced = *rd->opts;
    forced.type_names = names;
    forced.types = types;
    forced.ntypes = n;
    if (differ) st = read_share(rd, &forced, &again, err);
    st = tl_dist_agree(d, st, err);
    if (st == TL_OK && differ) tl_table_release(*t), *t = again;
    else tl_table_release(again);
  }
  free(mine);
  free(all);
  free(names);
  free(types);
  return st;
}

/* Each file's size (agreed: a file that cannot be read is everyone's error). */
static tl_status sizes_of(reader *rd, int64_t *total, tl_error *err) {
  tl_status st = TL_OK;
  *total = 0;
  for (int f = 0; f < rd->nfiles && st == TL_OK; f++) {
    struct stat sb;
    int e = stat(rd->paths[f], &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : 0;
    if (e) {
      st = tl_error_set(err, TL_EIO, "read_csv: cannot open '%s': %s", rd->paths[f],
                        strerror(e));
    } else {
      rd->sizes[f] = (int64_t)sb.st_size;
      *total += rd->sizes[f];
    }
  }
  return tl_dist_agree(rd->d, st, err);
}

/* Every rank's cut: what its span holds of the last file it touches. */
static tl_status scan_cuts(reader *rd, tl_error *err) {
  cut mine = { -1, 0, 0 };
  tl_status st = TL_OK;
  for (int f = 0; f < rd->nfiles && st == TL_OK; f++) {
    int64_t from, to, q = 0, n = 0;
    if (!part(rd, f, &from, &to)) continue;
    st = tl_csv_scan_range(rd->paths[f], from, to, &q, &n, err);
    mine.file = f;
    mine.quotes = q;
    mine.lines = n;
  }
  st = tl_dist_agree(rd->d, st, err);
  if (st == TL_OK) rd->d->tr->allgather(rd->d->tr->ud, &mine, sizeof mine, rd->cuts);
  return st;
}

/* The rejects of a part read from a cut number its records from the cut:
** the records of the ranks before in that file come first. */
static tl_status number_rejects(reader *rd, tl_error *err) {
  tl_dist *d = rd->d;
  int64_t *all = malloc((size_t)d->size * (size_t)rd->nfiles * sizeof *all);
  tl_status st = tl_dist_agree(d, all ? TL_OK : oom(err), err);
  if (st != TL_OK) return free(all), st;
  d->tr->allgather(d->tr->ud, rd->filerecs, (size_t)rd->nfiles * sizeof *all, all);
  for (int k = 0; k < rd->nrejects && st == TL_OK; k++) {
    int f = rd->rejfile[k];
    int64_t before = 0;
    if (f < 0 || tl_table_nrows(rd->rejects[k]) == 0) continue;
    for (int r = 0; r < d->rank; r++) before += all[(size_t)r * (size_t)rd->nfiles + (size_t)f];
    char def[64];
    const char *defs[1] = { def };
    tl_table *t = NULL;
    snprintf(def, sizeof def, "record = record + %lld", (long long)before);
    st = tl_table_mutate(rd->rejects[k], 1, defs, &t, err);
    if (st == TL_OK) tl_table_release(rd->rejects[k]), rd->rejects[k] = t;
  }
  free(all);
  return st;
}

/* This rank's rejects, one table (NULL when not asked for). */
static tl_status share_rejects(reader *rd, tl_table **rejects, tl_error *err) {
  if (!rejects) return TL_OK;
  tl_status st = number_rejects(rd, err);
  if (st != TL_OK) return st;
  if (rd->nrejects == 1) {
    *rejects = rd->rejects[0];
    rd->rejects[0] = NULL;
    rd->nrejects = 0;
    return TL_OK;
  }
  return tl_table_concat(rd->nrejects, (const tl_table *const *)rd->rejects, rejects, err);
}

tl_status tl_dist_read_csv(tl_dist *d, int nfiles, const char *const *paths,
                           const tl_csv_options *opts, tl_table **out, tl_error *err) {
  return tl_dist_read_csv_ex(d, nfiles, paths, opts, out, NULL, NULL, err);
}

tl_status tl_dist_read_csv_ex(tl_dist *d, int nfiles, const char *const *paths,
                              const tl_csv_options *opts, tl_table **out, tl_table **rejects,
                              int64_t *records, tl_error *err) {
  tl_csv_options dflt;
  reader rd = { d, nfiles, paths, opts, NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL };
  tl_status st = TL_OK;
  int64_t total = 0;
  *out = NULL;
  if (!opts) tl_csv_options_init(&dflt), rd.opts = &dflt;
  if (nfiles < 1) {
    st = tl_error_set(err, TL_EINVAL, "tally.mpi.read_csv: no files");
  } else if (rd.opts->range_start || rd.opts->range_stop || rd.opts->range_quotes != -1 ||
             rd.opts->range_line || rd.opts->range_record) {
    st = tl_error_set(err, TL_EINVAL,
                      "tally.mpi.read_csv: the range options are set by tally.mpi itself");
  }
  st = tl_dist_agree(d, st, err);
  if (st != TL_OK) return st;
  rd.sizes = malloc((size_t)nfiles * sizeof *rd.sizes);
  rd.cuts = malloc((size_t)d->size * sizeof *rd.cuts);
  rd.rejects = calloc((size_t)nfiles + 1, sizeof *rd.rejects);
  rd.rejfile = calloc((size_t)nfiles + 1, sizeof *rd.rejfile);
  rd.filerecs = calloc((size_t)nfiles, sizeof *rd.filerecs);
  if (rejects) *rejects = NULL;
  if (records) *records = 0;
  st = tl_dist_agree(d, rd.sizes && rd.cuts && rd.rejects && rd.rejfile && rd.filerecs ? TL_OK
                       : oom(err), err);
  if (st == TL_OK) st = sizes_of(&rd, &total, err);
  if (st == TL_OK) {
    int64_t size = d->size, rank = d->rank;
    rd.lo = total / size * rank + (rank < total % size ? rank : total % size);
    rd.hi = rd.lo + total / size + (rank < total % size);
    st = scan_cuts(&rd, err);
  }
  if (st == TL_OK) st = tl_dist_agree(d, read_share(&rd, NULL, out, err), err);
  if (st == TL_OK) st = agree_columns(d, out, err);
  if (st == TL_OK) st = agree_types(&rd, out, err);
  if (st == TL_OK) st = tl_dist_agree(d, share_rejects(&rd, rejects, err), err);
  if (st == TL_OK && records) *records = rd.records;
  if (st != TL_OK) tl_table_release(*out), *out = NULL;
  if (rd.rejects && rd.filerecs) drop_rejects(&rd);
  free(rd.rejects);
  free(rd.rejfile);
  free(rd.filerecs);
  free(rd.sizes);
  free(rd.cuts);
  return st;
}
