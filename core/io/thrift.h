/*
** thrift.h -- a reader of the Thrift compact protocol (internal to io), the
** encoding of Parquet's footer and page headers. It reads from a byte range
** and never past it: every length and count is checked against the bytes
** left, and nesting stops at TH_MAX_DEPTH. On a failure a function returns
** -1 and leaves a fixed message in r->msg (the first failure is kept); the
** caller adds the file and the part ("footer", "page header").
*/
#ifndef TL_THRIFT_H
#define TL_THRIFT_H

#include <stddef.h>
#include <stdint.h>

/* The compact protocol's type codes, as they appear in field and list
** headers (TH_TRUE and TH_FALSE only in field headers). */
enum {
  TH_STOP = 0, TH_TRUE = 1, TH_FALSE = 2, TH_BYTE = 3, TH_I16 = 4, TH_I32 = 5,
  TH_I64 = 6, TH_DOUBLE = 7, TH_BINARY = 8, TH_LIST = 9, TH_SET = 10, TH_MAP = 11,
  TH_STRUCT = 12, TH_UUID = 13
};

#define TH_MAX_DEPTH 64

typedef struct th_reader {
  const uint8_t *start, *p, *end;
  int depth;          /* structs and containers open around p */
  const char *msg;    /* NULL until something fails */
} th_reader;

/* One struct being read: the id of the last field, for the deltas. */
typedef struct th_struct {
  int16_t last;
} th_struct;

void th_init(th_reader *r, const void *data, size_t len);
/* The offset of p from the start, for messages. */
size_t th_offset(const th_reader *r);

int th_varint(th_reader *r, uint64_t *v);
int th_i16(th_reader *r, int16_t *v);
int th_i32(th_reader *r, int32_t *v);
int th_i64(th_reader *r, int64_t *v);
int th_byte(th_reader *r, int8_t *v);
int th_double(th_reader *r, double *v);
/* A binary or string: *ptr points into the input, *len bytes. */
int th_binary(th_reader *r, const uint8_t **ptr, uint32_t *len);

/* Structs: th_begin enters one (depth checked), then th_field reads each
** field header until it returns 0 (the stop byte); th_end leaves it.
** *type is the field's type code; for a bool field it is TH_TRUE or
** TH_FALSE and the value is read with th_field_bool. Returns 1 for a field,
** 0 at the end, -1 on failure. */
int th_begin(th_reader *r, th_struct *s);
int th_field(th_reader *r, th_struct *s, int16_t *id, uint8_t *type);
int th_end(th_reader *r);
int th_field_bool(uint8_t type, int *v);

/* A list or set header: element type and count. The count is checked
** against the bytes left (every element takes one byte at least) and the
** depth is entered; th_list_end leaves it. A bool element is one byte. */
int th_list(th_reader *r, uint8_t *elem, uint32_t *n);
int th_list_end(th_reader *r);
int th_list_bool(th_reader *r, int *v);

/* Skips one value of the given type (a field's or an element's),
** containers and structs included. */
int th_skip(th_reader *r, uint8_t type);

/* Skips a field's value: a bool field has none (its type is its value). */
int th_skip_field(th_reader *r, uint8_t type);

/* Reads an integer field value of type I8/I16/I32 into an int32, and one of
** any integer type into an int64: the types writers use interchangeably. */
int th_int32_value(th_reader *r, uint8_t type, int32_t *v);
int th_int64_value(th_reader *r, uint8_t type, int64_t *v);

#endif
