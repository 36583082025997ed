/*
** sink.c -- a scan's result written to a Parquet or Arrow IPC file batch
** by batch (io's stream writers), as tl_write_parquet and tl_write_arrow
** would write the collected table, without holding it: Parquet row groups
** are cut from the batches as they come, Arrow record batches are the
** batches. On error or interrupt the file being written is removed.
*/
#include "base/error.h"
#include "exec.h"
#include "io/stream_write.h"

/* A stream writer, opened: its batches go to put, close finishes it. */
typedef struct sink {
  void *w;
  tl_status (*put)(void *w, const tl_table *t, tl_error *err);
  tl_status (*close)(void *w, int ok, tl_error *err);
} sink;

static tl_status put_parquet(void *w, const tl_table *t, tl_error *err) {
  return pqw_stream_put(w, t, err);
}
static tl_status close_parquet(void *w, int ok, tl_error *err) {
  return pqw_stream_close(w, ok, err);
}
static tl_status put_arrow(void *w, const tl_table *t, tl_error *err) {
  return arw_stream_put(w, t, err);
}
static tl_status close_arrow(void *w, int ok, tl_error *err) {
  return arw_stream_close(w, ok, err);
}

/* Runs s into the open sink k and closes it: the first error wins, and a
** failed run closes with ok = 0, which removes the file. */
static tl_status drain(const tl_scan *s, sink k, tl_error *err) {
  tl_status st = tl_scan_run_into(s, k.put, k.w, err);
  tl_error ignored;
  tl_status cst = k.close(k.w, st == TL_OK, st == TL_OK ? err : &ignored);
  return st != TL_OK ? st : cst;
}

tl_status tl_scan_write_parquet(const tl_scan *s, const char *path,
                                const tl_parquet_write_options *opts, tl_error *err) {
  tl_table *schema = NULL;
  pqw_stream *w = NULL;
  TL_TRY(tl_scan_result_schema(s, &schema, err));
  tl_status st = pqw_stream_open(path, schema, opts, &w, err);
  tl_table_release(schema);
  TL_TRY(st);
  return drain(s, (sink){ w, put_parquet, close_parquet }, err);
}

tl_status tl_scan_write_arrow(const tl_scan *s, const char *path,
                              const tl_arrow_write_options *opts, tl_error *err) {
  tl_table *schema = NULL;
  arw_stream *w = NULL;
  TL_TRY(tl_scan_result_schema(s, &schema, err));
  tl_status st = arw_stream_open(path, schema, opts, &w, err);
  tl_table_release(schema);
  TL_TRY(st);
  return drain(s, (sink){ w, put_arrow, close_arrow }, err);
}
