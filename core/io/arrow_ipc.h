/*
** arrow_ipc.h -- what the Arrow IPC reader's parts share (internal to the
** core): the Arrow type ids of Schema.fbs, a field as read from a schema,
** a buffer of a record batch, and the reader's state.
*/
#ifndef TL_ARROW_IPC_H
#define TL_ARROW_IPC_H

#include <stdint.h>

#include "tally/tally.h"

/* Type union of Schema.fbs */
enum {
  AT_NONE, AT_NULL, AT_INT, AT_FLOAT, AT_BINARY, AT_UTF8, AT_BOOL, AT_DECIMAL, AT_DATE,
  AT_TIME, AT_TIMESTAMP, AT_INTERVAL, AT_LIST, AT_STRUCT, AT_UNION, AT_FIXED_BINARY,
  AT_FIXED_LIST, AT_MAP, AT_DURATION, AT_LARGE_BINARY, AT_LARGE_UTF8, AT_LARGE_LIST,
  AT_RUN_END, AT_BINARY_VIEW, AT_UTF8_VIEW, AT_LIST_VIEW, AT_LARGE_LIST_VIEW, AT_COUNT
};

/* MessageHeader union of Message.fbs */
enum { MH_NONE, MH_SCHEMA, MH_DICTIONARY, MH_RECORD_BATCH };

/* CompressionType of Message.fbs */
enum { IPC_LZ4_FRAME = 0, IPC_ZSTD = 1 };

/* Units of Date, Time, Timestamp */
enum { UNIT_SECOND, UNIT_MILLI, UNIT_MICRO, UNIT_NANO };
enum { DATE_DAY, DATE_MILLI };
enum { FP_HALF, FP_SINGLE, FP_DOUBLE };

#define IPC_ALIGN 64   /* where the writer puts buffers; the reader needs 8 */

/* The name of type id t ("list", ...). */
const char *ipc_type_name(int t);

typedef struct ipc_type {
  int id;              /* AT_* */
  int bits;            /* Int, Decimal */
  int is_signed;       /* Int */
  int precision;       /* FloatingPoint */
  int unit;            /* Date, Timestamp */
  int scale;           /* Decimal */
} ipc_type;

typedef struct ipc_field {
  char *name;
  ipc_type type;       /* of the values (a dictionary's values when `dict`) */
  int dict;            /* dictionary-encoded */
  int64_t dict_id;
  ipc_type index;      /* of the indices when `dict` */
  int skip;            /* not among the columns asked for */
  /* what the field's subtree takes in a record batch, for skipping it: field
  ** nodes, buffers besides the variadic ones, and view-typed fields (each
  ** with its own count of variadic buffers) */
  int nnodes, nbufs, nviews;
  const char *nested;  /* the nested type's name, or NULL */
} ipc_field;

/* A buffer of a record batch: in the file (`mapped`: it can be pointed to
** by a column) or decompressed into `owned` (a tl_alloc block). */
typedef struct ipc_buf {
  const uint8_t *p;
  int64_t len;
  int mapped;
  uint8_t *owned;
} ipc_buf;

typedef struct tl_mapfile tl_mapfile;
typedef struct ipc_reader ipc_reader;

/* The error of the reader's current part: "read_arrow: <path>: <part>: ...". */
tl_status ipc_bad(ipc_reader *R, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
tl_error *ipc_err(ipc_reader *R);
/* The mapping the reader's buffers are in; NULL when none can be pointed to. */
tl_mapfile *ipc_mapping(ipc_reader *R);

/* A column standing on the mapping (each buffer inside it): a reference to
** the mapping is taken. `nulls` is the count of clear bits in `validity`,
** already checked. */
tl_status ipc_wrap(ipc_reader *R, tl_type type, int64_t n, const uint8_t *validity,
                   int64_t nulls, const void *values, const char *bytes, int64_t nbytes,
                   tl_column *dict, tl_column **out);

/* Column f of a record batch of n rows and `nulls` nulls from its buffers
** (bufs[0] the validity; nbufs of them; a decompressed one may be taken
** over, its `owned` then NULL). A dictionary-encoded field's
** values come from `dict` (its dictionary, decoded; `dict_ok`: a plain
** string column fit to be a tally dictionary). */
tl_status ipc_decode(ipc_reader *R, const ipc_field *f, int64_t n, int64_t nulls,
                     ipc_buf *bufs, int nbufs, tl_column *dict, int dict_ok,
                     tl_column **out);

/* The number of buffers of a column of type t, variadic ones aside. */
int ipc_type_buffers(int t);

#endif
