/*
** thrift_write.h -- a writer of the Thrift compact protocol (internal to
** io), for Parquet's page headers and footer. Values are appended to a
** growable buffer; a failed allocation is remembered (w->failed) and every
** later call does nothing, so a caller checks once at the end.
*/
#ifndef TL_THRIFT_WRITE_H
#define TL_THRIFT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "io/thrift.h"

#define THW_MAX_DEPTH 16

typedef struct th_writer {
  uint8_t *buf;
  size_t len, cap;
  int failed;                       /* an allocation failed */
  int depth;                        /* structs open */
  int16_t last[THW_MAX_DEPTH];      /* the last field id of each open struct */
} th_writer;

void thw_init(th_writer *w);
void thw_free(th_writer *w);
/* Empties the buffer, keeping its memory. */
void thw_reset(th_writer *w);

/* Raw bytes and values without a field header (list elements). */
void thw_bytes(th_writer *w, const void *p, size_t n);
void thw_varint(th_writer *w, uint64_t v);
void thw_i32(th_writer *w, int32_t v);
void thw_i64(th_writer *w, int64_t v);
void thw_binary(th_writer *w, const void *p, size_t n);
void thw_string(th_writer *w, const char *s);

/* A field header of the struct being written (the id as a delta from the
** last one when it fits). */
void thw_field(th_writer *w, int16_t id, uint8_t type);
/* Fields with their values. */
void thw_field_i32(th_writer *w, int16_t id, int32_t v);
void thw_field_i64(th_writer *w, int16_t id, int64_t v);
void thw_field_bool(th_writer *w, int16_t id, int v);
void thw_field_binary(th_writer *w, int16_t id, const void *p, size_t n);
void thw_field_string(th_writer *w, int16_t id, const char *s);

/* Structs: thw_begin opens one (after thw_field(.., TH_STRUCT) or as a list
** element), thw_end writes its stop byte and closes it. */
void thw_begin(th_writer *w);
void thw_end(th_writer *w);
/* A field holding a struct: the header, then thw_begin. */
void thw_field_struct(th_writer *w, int16_t id);
/* A field holding an empty struct (the members of Parquet's unions that
** carry nothing). */
void thw_field_empty(th_writer *w, int16_t id);

/* A list header: element type and count; the elements follow. */
void thw_list(th_writer *w, uint8_t elem, uint32_t n);
void thw_field_list(th_writer *w, int16_t id, uint8_t elem, uint32_t n);

#endif
