/*
** csv.h -- CSV parsing helpers shared with other readers of text (internal).
*/
#ifndef TL_CSV_H
#define TL_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "tally/tally.h"

/* Value parsers over a span of text (no NUL needed). Each returns 1 when the
** whole span is a value of that type, 0 when it is not. */
int tl_parse_bool(const char *s, size_t n, int *out);
/* Returns -1 for a well-formed integer that does not fit int64. A leading
** zero ("007") is not an integer. */
int tl_parse_int(const char *s, size_t n, int64_t *out);
int tl_parse_float(const char *s, size_t n, double *out);
int tl_parse_date(const char *s, size_t n, int32_t *out);
/* "YYYY-MM-DD HH:MM:SS[.ffffff]" ('T' also separates), or a date alone. */
int tl_parse_timestamp(const char *s, size_t n, int64_t *out);
/* 1 when the span is valid UTF-8. */
int tl_utf8_valid(const char *s, size_t n);
/* TL_OK when every column name and string value of t is valid UTF-8, as
** the writers' output must be for the readers to take it back; otherwise
** an error "<op>: column N ('name') row R: invalid UTF-8". */
TL_NODISCARD tl_status tl_table_check_utf8(const tl_table *t, const char *op, tl_error *err);

#endif
