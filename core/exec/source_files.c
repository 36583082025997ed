/*
** source_files.c -- tl_scan_files: the source for a list of paths, chosen
** by what the files hold. A folder stands for its files (sorted by name;
** those whose names start with '.' or '_' left out, as Spark's _SUCCESS).
** Files opening with Parquet's magic make a Parquet source; gzip or zstd
** magic a compressed CSV source (streamed), which also reads the plain
** files of the list; otherwise a CSV source cut into byte ranges. A list
** mixing Parquet with CSV is an error naming the first file of the other
** kind.
*/
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/error.h"
#include "exec.h"
#include "io/csv.h"

enum { F_CSV, F_PARQUET, F_CSVZ };

typedef struct flist {
  int n, cap;
  char **v;
} flist;

static void flist_free(flist *l) {
  for (int k = 0; k < l->n; k++) tl_free(l->v[k]);
  tl_free(l->v);
}

static tl_status flist_add(flist *l, const char *a, const char *b, tl_error *err) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 16;
    char **v = tl_realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) return tl_error_oom(err, "scan");
    l->v = v;
    l->cap = cap;
  }
  size_t la = strlen(a), lb = b ? strlen(b) : 0;
  char *p = tl_alloc(la + lb + 2);
  if (!p) return tl_error_oom(err, "scan");
  memcpy(p, a, la);
  if (b) { p[la] = '/'; memcpy(p + la + 1, b, lb + 1); }
  else p[la] = '\0';
  l->v[l->n++] = p;
  return TL_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of folder `dir`, sorted, into l. */
static tl_status add_folder(flist *l, const char *dir, tl_error *err) {
  DIR *d = opendir(dir);
  if (!d) return tl_error_set(err, TL_EIO, "scan: cannot list '%s': %s", dir, strerror(errno));
  int first = l->n;
  tl_status st = TL_OK;
  struct dirent *e;
  while (st == TL_OK && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || e->d_name[0] == '_') continue;
    st = flist_add(l, dir, e->d_name, err);
    struct stat sb;
    if (st == TL_OK && (stat(l->v[l->n - 1], &sb) != 0 || !S_ISREG(sb.st_mode)))
      tl_free(l->v[--l->n]);   /* sub-folders and the like */
  }
  closedir(d);
  if (st == TL_OK && l->n == first)
    st = tl_error_set(err, TL_EIO, "scan: the folder '%s' holds no files", dir);
  if (st == TL_OK) qsort(l->v + first, (size_t)(l->n - first), sizeof *l->v, cmp_str);
  return st;
}

/* The kind of a file by its first bytes. One that cannot be opened is an
** error here, before it is taken for CSV beside Parquet files. */
static tl_status file_kind(const char *path, int *kind, tl_error *err) {
  unsigned char b[4] = { 0 };
  FILE *f = fopen(path, "rb");
  if (!f) return tl_error_set(err, TL_EIO, "scan: cannot read '%s': %s", path, strerror(errno));
  size_t n = fread(b, 1, 4, f);
  fclose(f);
  if (n == 4 && memcmp(b, "PAR1", 4) == 0) *kind = F_PARQUET;
  else *kind = tl_csv_compression(b, n) ? F_CSVZ : F_CSV;
  return TL_OK;
}

static tl_status make_source(const flist *l, const tl_scan_options *opts, tl_source **src,
                             tl_error *err) {
  int any[3] = { 0, 0, 0 }, first_kind = -1;
  for (int k = 0; k < l->n; k++) {
    int kind = F_CSV;
    TL_TRY(file_kind(l->v[k], &kind, err));
    if (first_kind < 0) first_kind = kind;
    if ((kind == F_PARQUET) != (first_kind == F_PARQUET))
      return tl_error_set(err, TL_ETYPE, "scan: %s is %s, but %s is %s: the files must be of "
                          "one format", l->v[k], kind == F_PARQUET ? "Parquet" : "CSV",
                          l->v[0], first_kind == F_PARQUET ? "Parquet" : "CSV");
    any[kind] = 1;
  }
  const char *const *v = (const char *const *)l->v;
  const char *given = any[F_PARQUET] ? tl_scan_csv_option(opts) : NULL;
  if (given)
    return tl_error_set(err, TL_EINVAL, "scan: option '%s' is for CSV files: it does not "
                        "apply to Parquet files (%s)", given, l->v[0]);
  if (any[F_PARQUET]) return tl_source_parquet(l->n, v, src, err);
  if (any[F_CSVZ]) return tl_source_csvz(l->n, v, opts, src, err);
  return tl_source_csv(l->n, v, opts, src, err);
}

tl_status tl_scan_files(int npaths, const char *const *paths, const tl_scan_options *opts,
                        tl_scan **out, tl_error *err) {
  flist l = { 0, 0, NULL };
  tl_source *src = NULL;
  *out = NULL;
  if (npaths < 1) return tl_error_set(err, TL_EINVAL, "scan: no files");
  tl_status st = TL_OK;
  for (int k = 0; k < npaths && st == TL_OK; k++) {
    struct stat sb;
    if (stat(paths[k], &sb) == 0 && S_ISDIR(sb.st_mode)) st = add_folder(&l, paths[k], err);
    else st = flist_add(&l, paths[k], NULL, err);
  }
  if (st == TL_OK) st = make_source(&l, opts, &src, err);
  flist_free(&l);
  TL_TRY(st);
  return tl_scan_from_source(src, opts, out, err);
}
