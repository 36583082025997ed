/*
** stream_write.h -- writers fed batch by batch (internal to the core), for
** scans that write their result without holding it: open with the
** result's schema (a table of no rows), put batches of those columns in
** order, then close, which finishes the file (ok = 1) or removes it. The
** file is written beside `path` and renamed over it by a good close, so an
** error or an interrupt leaves no file. Close frees the writer either way.
*/
#ifndef TL_STREAM_WRITE_H
#define TL_STREAM_WRITE_H

#include "tally/tally.h"

/* Parquet: batches are gathered into row groups of row_group_size rows. */
typedef struct pqw_stream pqw_stream;
tl_status pqw_stream_open(const char *path, const tl_table *schema,
                          const tl_parquet_write_options *opts, pqw_stream **out,
                          tl_error *err);
tl_status pqw_stream_put(pqw_stream *w, const tl_table *t, tl_error *err);
tl_status pqw_stream_close(pqw_stream *w, int ok, tl_error *err);

/* Arrow IPC: each batch a record batch (of at most batch_rows rows when
** that is set). Dictionary columns are written as plain strings. */
typedef struct arw_stream arw_stream;
tl_status arw_stream_open(const char *path, const tl_table *schema,
                          const tl_arrow_write_options *opts, arw_stream **out, tl_error *err);
tl_status arw_stream_put(arw_stream *w, const tl_table *t, tl_error *err);
tl_status arw_stream_close(arw_stream *w, int ok, tl_error *err);

#endif
