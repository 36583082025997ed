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

static tl_status put_parquet(void *ud, const tl_table *t, tl_error *err) {
  return pqw_stream_put(ud, t, err);
}

static tl_status put_arrow(void *ud, const tl_table *t, tl_error *err) {
  return arw_stream_put(ud, t, err);
}

tl_status tl_scan_write_parquet(const tl_scan *s, const char *path,
                                const tl_parquet_write_options *opts, tl_error *err) {
  tl_table *schema = NULL;
  pqw_stream *w = NULL;
  TL_TRY(tl_scan_result_schema(s, &schema, err));
  tl_status st = pqw_stream_open(path, schema, opts, &w, err);
  tl_table_release(schema);
  TL_TRY(st);
  st = tl_scan_run_into(s, put_parquet, w, err);
  tl_error ignored;
  tl_status cst = pqw_stream_close(w, st == TL_OK, st == TL_OK ? err : &ignored);
  return st != TL_OK ? st : cst;
}

tl_status tl_scan_write_arrow(const tl_scan *s, const char *path,
                              const tl_arrow_write_options *opts, tl_error *err) {
  tl_table *schema = NULL;
  arw_stream *w = NULL;
  TL_TRY(tl_scan_result_schema(s, &schema, err));
  tl_status st = arw_stream_open(path, schema, opts, &w, err);
  tl_table_release(schema);
  TL_TRY(st);
  st = tl_scan_run_into(s, put_arrow, w, err);
  tl_error ignored;
  tl_status cst = arw_stream_close(w, st == TL_OK, st == TL_OK ? err : &ignored);
  return st != TL_OK ? st : cst;
}
