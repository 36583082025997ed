/*
** registry.h -- the built-in functions of the expression language (internal
** to the core). The public view of each entry is its tl_function_info; the
** parts of the core that implement a function find it by its id.
*/
#ifndef TL_REGISTRY_H
#define TL_REGISTRY_H

#include "tally/tally.h"

/* Scalar functions. */
enum {
  F_ABS, F_LN, F_LOG, F_EXP, F_SQRT, F_FLOOR, F_CEIL, F_ROUND, F_LOWER, F_UPPER, F_LEN,
  F_TRIM, F_SUBSTR, F_CONTAINS, F_STARTS, F_ENDS, F_YEAR, F_MONTH, F_DAY, F_ISNULL,
  F_COALESCE, F_IF
};

/* Dates, times and casts (bind_time.c, call_time.c): a block of their own. */
enum {
  F_TIME_FIRST = 1000,
  F_HOUR = F_TIME_FIRST, F_MINUTE, F_SECOND, F_WEEKDAY, F_YEARDAY, F_QUARTER, F_WEEK,
  F_DATE_TRUNC, F_DATE_DIFF, F_DATE_SUB, F_DATE_ADD, F_STRFTIME, F_TO_DATE, F_TO_TIMESTAMP,
  F_EPOCH, F_MAKE_DATE, F_CAST_INT, F_CAST_FLOAT, F_CAST_STRING, F_CAST_BOOL, F_CAST_DATE,
  F_CAST_TIMESTAMP, F_TRY_CAST,
  F_TIME_LAST
};
static inline int tl_is_time_fn(int id) { return id >= F_TIME_FIRST && id < F_TIME_LAST; }

/* Text, regular expressions and operators (fn_text.c, fn_regex.c, fn_ops.c). */
enum {
  F_TEXT_FIRST = 200,
  F_LEFT = F_TEXT_FIRST, F_RIGHT, F_REPLACE, F_SPLIT_PART, F_LPAD, F_RPAD, F_LTRIM, F_RTRIM,
  F_REVERSE, F_STRPOS, F_CONCAT, F_REPEAT, F_LIKE, F_ILIKE, F_RX_MATCHES, F_RX_REPLACE,
  F_RX_EXTRACT, F_IN, F_NULLIF, F_GREATEST, F_LEAST, F_IS_NAN, F_SIGN,
  F_TEXT_END
};

/* Window functions (mutate). */
enum {
  W_LAG, W_LEAD, W_CUMSUM, W_RANK, W_ROW_NUMBER,
  W_DENSE_RANK, W_PERCENT_RANK, W_NTILE, W_CUME_DIST, W_FIRST_VALUE, W_LAST_VALUE,
  W_CUMMAX, W_CUMMIN, W_CUMPROD, W_CUMCOUNT,
  W_ROLLING_SUM, W_ROLLING_MEAN, W_ROLLING_MIN, W_ROLLING_MAX, W_ROLLING_STD
};

typedef struct tl_builtin {
  tl_function_info info;   /* first: the public view points here */
  int id;                  /* F_*, AGG_* (expr.h) or W_*, by info.kind */
} tl_builtin;

/* The built-in called `name`, or NULL. */
const tl_builtin *tl_builtin_lookup(const char *name);

#endif
