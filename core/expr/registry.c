/*
** registry.c -- one table of every built-in function of the expression
** language: scalar, aggregate and window functions, with their arity, a
** signature and a line of help. The binder, mutate's window pass, help() and
** the checks that keep a Lua function from taking a built-in's name all read
** this table; nothing else lists the names.
*/
#include <string.h>

#include "expr.h"
#include "registry.h"

#define S(name, id, lo, hi, sig, help) { { name, TL_FN_SCALAR, lo, hi, sig, help }, id }
#define A(name, id, lo, hi, sig, help) { { name, TL_FN_AGGREGATE, lo, hi, sig, help }, id }
#define W(name, id, lo, hi, sig, help) { { name, TL_FN_WINDOW, lo, hi, sig, help }, id }

static const tl_builtin builtins[] = {
  S("abs", F_ABS, 1, 1, "abs(x)", "The absolute value of a number."),
  S("ln", F_LN, 1, 1, "ln(x)", "The natural logarithm."),
  S("log", F_LOG, 1, 2, "log(x [, base])",
    "The logarithm in base 10 (SQL log10; ln is the natural one), or in the given base."),
  S("exp", F_EXP, 1, 1, "exp(x)", "e raised to x."),
  S("sqrt", F_SQRT, 1, 1, "sqrt(x)", "The square root."),
  S("floor", F_FLOOR, 1, 1, "floor(x)", "The largest integer not above x."),
  S("ceil", F_CEIL, 1, 1, "ceil(x)", "The smallest integer not below x."),
  S("round", F_ROUND, 1, 2, "round(x [, digits])",
    "x rounded half away from zero, to 0 or the given number of decimal digits."),
  S("lower", F_LOWER, 1, 1, "lower(s)", "The text with ASCII letters in lower case."),
  S("upper", F_UPPER, 1, 1, "upper(s)", "The text with ASCII letters in upper case."),
  S("len", F_LEN, 1, 1, "len(s)", "The length of a text in code points."),
  S("trim", F_TRIM, 1, 1, "trim(s)", "The text without leading and trailing white space."),
  S("substr", F_SUBSTR, 2, 3, "substr(s, i [, j])",
    "Code points i to j (an end, not a length) of a text, as Lua's string.sub (negative "
    "from the end); SQL substr(s, i, n) is substr(s, i, i + n - 1)."),
  S("contains", F_CONTAINS, 2, 2, "contains(s, part)", "True when the text contains part."),
  S("starts_with", F_STARTS, 2, 2, "starts_with(s, prefix)",
    "True when the text begins with prefix."),
  S("ends_with", F_ENDS, 2, 2, "ends_with(s, suffix)", "True when the text ends with suffix."),
  S("year", F_YEAR, 1, 1, "year(d)", "The year of a date or timestamp."),
  S("month", F_MONTH, 1, 1, "month(d)", "The month (1 to 12) of a date or timestamp."),
  S("day", F_DAY, 1, 1, "day(d)", "The day of the month of a date or timestamp."),
  S("is_null", F_ISNULL, 1, 1, "is_null(x)", "True when x is null."),
  S("coalesce", F_COALESCE, 1, 64, "coalesce(x, y, ...)", "The first argument that is not null."),
  S("if", F_IF, 3, 3, "if(cond, a, b)",
    "a where cond is true, b elsewhere (null and false alike); each side runs on its rows."),
  A("count", AGG_COUNT, 0, 1, "count([x])", "The number of rows, or of non-null x."),
  A("sum", AGG_SUM, 1, 1, "sum(x)", "The sum (integers exact or an error, floats compensated)."),
  A("mean", AGG_MEAN, 1, 1, "mean(x)", "The arithmetic mean; null over no values."),
  A("avg", AGG_MEAN, 1, 1, "avg(x)", "The arithmetic mean (the same as mean)."),
  A("min", AGG_MIN, 1, 1, "min(x)", "The smallest value."),
  A("max", AGG_MAX, 1, 1, "max(x)", "The largest value."),
  A("median", AGG_MEDIAN, 1, 1, "median(x)", "The middle value (the mean of the two middle ones)."),
  A("quantile", AGG_QUANTILE, 2, 2, "quantile(x, q)",
    "The q-quantile (0 <= q <= 1), interpolated linearly between values."),
  A("stddev", AGG_STDDEV, 1, 1, "stddev(x)", "The sample standard deviation."),
  A("var", AGG_VAR, 1, 1, "var(x)", "The sample variance."),
  A("count_distinct", AGG_COUNT_DISTINCT, 1, 1, "count_distinct(x)",
    "The number of distinct non-null values."),
  A("first", AGG_FIRST, 1, 1, "first(x)", "The first non-null value in row order."),
  A("last", AGG_LAST, 1, 1, "last(x)", "The last non-null value in row order."),
  W("lag", W_LAG, 1, 3, "lag(x [, k [, default]])",
    "x of the k-th row before (1 by default) in the window order; default or null before it."),
  W("lead", W_LEAD, 1, 3, "lead(x [, k [, default]])",
    "x of the k-th row after (1 by default) in the window order; default or null past it."),
  W("cumsum", W_CUMSUM, 1, 1, "cumsum(x)", "The running sum of x in the window order."),
  W("rank", W_RANK, 0, 0, "rank()",
    "The rank in the order_by order (ties share it, gaps follow); needs order_by."),
  W("row_number", W_ROW_NUMBER, 0, 0, "row_number()",
    "The position of the row in its partition, from 1."),
  W("dense_rank", W_DENSE_RANK, 0, 0, "dense_rank()",
    "The rank in the order_by order, ties sharing it, without gaps; needs order_by."),
  W("percent_rank", W_PERCENT_RANK, 0, 0, "percent_rank()",
    "(rank - 1) / (rows of the partition - 1), from 0 to 1; needs order_by."),
  W("ntile", W_NTILE, 1, 1, "ntile(n)",
    "The tile (1 to n) of the row when its partition is cut into n near-equal tiles in order."),
  W("cume_dist", W_CUME_DIST, 0, 0, "cume_dist()",
    "The share of the partition's rows up to this one and its ties; needs order_by."),
  W("first_value", W_FIRST_VALUE, 1, 1, "first_value(x)",
    "x at the partition's first row in the window order (nulls included)."),
  W("last_value", W_LAST_VALUE, 1, 1, "last_value(x)",
    "x at the last of the row's ties in the order (the partition's last row without order_by)."),
  W("cummax", W_CUMMAX, 1, 1, "cummax(x)", "The running maximum of x, row by row."),
  W("cummin", W_CUMMIN, 1, 1, "cummin(x)", "The running minimum of x, row by row."),
  W("cumprod", W_CUMPROD, 1, 1, "cumprod(x)", "The running product of x, row by row."),
  W("cumcount", W_CUMCOUNT, 0, 1, "cumcount([x])",
    "The running count of rows, or of the non-null values of x."),
  W("rolling_sum", W_ROLLING_SUM, 2, 2, "rolling_sum(x, n)",
    "The sum of x over the n rows ending at this one (fewer at a partition's start)."),
  W("rolling_mean", W_ROLLING_MEAN, 2, 2, "rolling_mean(x, n)",
    "The mean of x over the n rows ending at this one (fewer at a partition's start)."),
  W("rolling_min", W_ROLLING_MIN, 2, 2, "rolling_min(x, n)",
    "The minimum of x over the n rows ending at this one."),
  W("rolling_max", W_ROLLING_MAX, 2, 2, "rolling_max(x, n)",
    "The maximum of x over the n rows ending at this one."),
  W("rolling_std", W_ROLLING_STD, 2, 2, "rolling_std(x, n)",
    "The sample standard deviation of x over the n rows ending at this one."),
};

static const char *const keywords[] = { "true", "false", "nil", "null", "and", "or", "not" };

const tl_builtin *tl_builtin_lookup(const char *name) {
  for (size_t k = 0; k < sizeof builtins / sizeof *builtins; k++)
    if (strcmp(builtins[k].info.name, name) == 0) return &builtins[k];
  return NULL;
}

const tl_function_info *tl_builtin_function(const char *name) {
  const tl_builtin *b = name ? tl_builtin_lookup(name) : NULL;
  return b ? &b->info : NULL;
}

const tl_function_info *tl_builtin_function_at(int i) {
  if (i < 0 || (size_t)i >= sizeof builtins / sizeof *builtins) return NULL;
  return &builtins[i].info;
}

int tl_expr_keyword(const char *name) {
  for (size_t k = 0; name && k < sizeof keywords / sizeof *keywords; k++)
    if (strcmp(keywords[k], name) == 0) return 1;
  return 0;
}
