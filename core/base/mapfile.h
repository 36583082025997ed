/*
** mapfile.h -- a file's bytes in memory, shared by the columns that point
** into them (internal to the core). tally.load, read_arrow and
** read_parquet map the file read-only; each column standing on it holds a
** reference, the last one unmaps. A mapping opened with TL_MAPFILE_WATCH
** keeps its descriptor, so that each operation can check with one fstat
** that the file (this inode, whatever the path names now) has kept the
** size and modification time it had when opened.
*/
#ifndef TL_MAPFILE_H
#define TL_MAPFILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tally/tally.h"

/* Who opens the file, for the errors: op "load", what "table file", done
** "loaded", verb "load" give "load: cannot open 'x': ..." and "filter: table
** file 'x' changed since it was loaded (...): load it again". */
typedef struct tl_mapfile_kind {
  const char *op, *what, *done, *verb;
} tl_mapfile_kind;

typedef struct tl_mapfile {
  atomic_long refs;
  const uint8_t *data;   /* the bytes, 64-byte aligned; never NULL */
  size_t size;
  void *base;            /* the mapping, or a tl_alloc'ed copy when owned */
  int owned;
  int fd;                /* kept for tl_mapfile_check, or -1 */
  struct timespec mtime;
  char *path;            /* NULL for a copy of a buffer */
  const tl_mapfile_kind *kind;
} tl_mapfile;

enum {
  TL_MAPFILE_COPY = 1,      /* read the file into memory instead of mapping it */
  TL_MAPFILE_WATCH = 2,     /* keep the descriptor: columns check the file */
};

/* Opens path (a regular file) with one reference. Errors: "op: cannot open
** 'path': reason", "... cannot read ...", "... cannot map ...". */
TL_NODISCARD tl_status tl_mapfile_open(const char *path, int flags,
                                       const tl_mapfile_kind *kind, tl_mapfile **out,
                                       tl_error *err);

/* A 64-byte aligned copy of len bytes of data, with one reference. */
TL_NODISCARD tl_status tl_mapfile_copy(const void *data, size_t len,
                                       const tl_mapfile_kind *kind, tl_mapfile **out,
                                       tl_error *err);

void tl_mapfile_retain(tl_mapfile *m);
void tl_mapfile_release(void *m);   /* NULL is fine */

/* Whether the file is as it was opened (always, without TL_MAPFILE_WATCH);
** an error naming op and the file otherwise. A column's `check`. */
tl_status tl_mapfile_check(const void *m, const char *op, tl_error *err);

/* Makes column c stand on m: its release drops a reference to m (taken
** here), its check is m's. */
void tl_mapfile_attach(tl_column *c, tl_mapfile *m);

/* Drops the pages of [p, p + n) inside m from this process's memory (they
** stay in the page cache): for a reader done with part of a large file. */
void tl_mapfile_drop(const tl_mapfile *m, const void *p, size_t n);

#endif
