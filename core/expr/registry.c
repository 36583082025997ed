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
  S("lower", F_LOWER, 1, 1, "lower(s)", "The text in lower case (Unicode case mapping)."),
  S("upper", F_UPPER, 1, 1, "upper(s)", "The text in upper case (Unicode case mapping)."),
  S("len", F_LEN, 1, 1, "len(s)", "The length of a text in code points."),
  S("trim", F_TRIM, 1, 2, "trim(s [, chars])",
    "The text without leading and trailing white space (or the characters of chars)."),
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
  /* dates, times and casts */
  S("hour", F_HOUR, 1, 1, "hour(t)", "The hour (0 to 23) of a timestamp; 0 for a date."),
  S("minute", F_MINUTE, 1, 1, "minute(t)", "The minute (0 to 59) of a timestamp."),
  S("second", F_SECOND, 1, 1, "second(t)", "The whole seconds (0 to 59) of a timestamp."),
  S("weekday", F_WEEKDAY, 1, 1, "weekday(d)", "The ISO day of the week: Monday 1 to Sunday 7."),
  S("yearday", F_YEARDAY, 1, 1, "yearday(d)", "The day of the year, from 1."),
  S("quarter", F_QUARTER, 1, 1, "quarter(d)", "The quarter (1 to 4) of a date or timestamp."),
  S("week", F_WEEK, 1, 1, "week(d)", "The ISO 8601 week (1 to 53): weeks start on Monday."),
  S("date_trunc", F_DATE_TRUNC, 2, 2, "date_trunc(unit, x)",
    "x cut down to the start of its unit: 'year' 'quarter' 'month' 'week' 'day' 'hour' "
    "'minute' 'second' (a date stays a date for units of a day or more)."),
  S("date_diff", F_DATE_DIFF, 3, 3, "date_diff(unit, a, b)",
    "The unit boundaries crossed from a to b (January 31 to February 1 is 1 month)."),
  S("date_sub", F_DATE_SUB, 3, 3, "date_sub(unit, a, b)",
    "The whole units elapsed from a to b (January 31 to February 1 is 0 months)."),
  S("date_add", F_DATE_ADD, 3, 3, "date_add(x, n, unit)",
    "x plus n units; months and years keep the day, or take the month's last one."),
  S("strftime", F_STRFTIME, 2, 2, "strftime(x, fmt)",
    "A date or timestamp as text in a strftime format ('%Y-%m-%d', '%b %d %Y', ...)."),
  S("to_date", F_TO_DATE, 1, 2, "to_date(s [, fmt])",
    "The date a text names, in ISO 8601 or in a strptime format; an error when it is none."),
  S("to_timestamp", F_TO_TIMESTAMP, 1, 2, "to_timestamp(s [, fmt])",
    "The timestamp a text names (ISO 8601 or a strptime format), or of epoch seconds."),
  S("epoch", F_EPOCH, 1, 1, "epoch(x)", "Seconds since 1970-01-01 00:00:00 UTC, as a float."),
  S("make_date", F_MAKE_DATE, 3, 3, "make_date(y, m, d)",
    "The date of a year, month and day; an error when there is no such day."),
  S("int", F_CAST_INT, 1, 1, "int(x)",
    "x as an integer: floats truncate toward zero; text must be a number."),
  S("float", F_CAST_FLOAT, 1, 1, "float(x)", "x as a float (numbers, booleans, text)."),
  S("string", F_CAST_STRING, 1, 1, "string(x)", "x as text, as it prints."),
  S("bool", F_CAST_BOOL, 1, 1, "bool(x)",
    "x as a boolean: numbers are true unless 0; text true/false, t/f, yes/no, 1/0."),
  S("date", F_CAST_DATE, 1, 1, "date(x)", "x as a date: ISO text, or a timestamp's day."),
  S("timestamp", F_CAST_TIMESTAMP, 1, 1, "timestamp(x)",
    "x as a timestamp: ISO text (Z and offsets read as UTC), or a date's midnight."),
  S("try_cast", F_TRY_CAST, 2, 2, "try_cast(x, type)",
    "x as the type named ('int' 'float' 'string' 'bool' 'date' 'timestamp'), null "
    "where it does not convert."),
  S("is_null", F_ISNULL, 1, 1, "is_null(x)", "True when x is null."),
  S("coalesce", F_COALESCE, 1, 64, "coalesce(x, y, ...)", "The first argument that is not null."),
  S("if", F_IF, 3, 3, "if(cond, a, b)",
    "a where cond is true, b elsewhere (null and false alike); each side runs on its rows."),
  /* text, regular expressions and operators (fn_text.c, fn_regex.c, fn_ops.c) */
  S("strip", F_TRIM, 1, 2, "strip(s [, chars])", "The same as trim."),
  S("ltrim", F_LTRIM, 1, 2, "ltrim(s [, chars])",
    "The text without leading white space (or the characters of chars)."),
  S("rtrim", F_RTRIM, 1, 2, "rtrim(s [, chars])",
    "The text without trailing white space (or the characters of chars)."),
  S("left", F_LEFT, 2, 2, "left(s, n)",
    "The first n code points of a text (n < 0: all but the last -n)."),
  S("right", F_RIGHT, 2, 2, "right(s, n)",
    "The last n code points of a text (n < 0: all but the first -n)."),
  S("replace", F_REPLACE, 3, 3, "replace(s, from, to)", "The text with every from replaced by to."),
  S("split_part", F_SPLIT_PART, 3, 3, "split_part(s, sep, n)",
    "Field n (from 1; negative: from the end) of the text split at sep; '' past the fields."),
  S("lpad", F_LPAD, 3, 3, "lpad(s, n, pad)",
    "The text filled on the left with pad to n code points (cut to n when longer)."),
  S("rpad", F_RPAD, 3, 3, "rpad(s, n, pad)",
    "The text filled on the right with pad to n code points (cut to n when longer)."),
  S("reverse", F_REVERSE, 1, 1, "reverse(s)",
    "The text backwards, each grapheme (a letter with its combining marks) kept whole."),
  S("strpos", F_STRPOS, 2, 2, "strpos(s, part)",
    "The code point where part first begins in s, from 1; 0 when it does not occur."),
  S("concat", F_CONCAT, 1, 64, "concat(s, t, ...)",
    "The texts one after another, nulls left out."),
  S("repeat", F_REPEAT, 2, 2, "repeat(s, n)", "The text n times over."),
  S("like", F_LIKE, 2, 3, "s like pat [escape c], like(s, pat [, c])",
    "True when the text matches the SQL pattern: % any text, _ any one character."),
  S("ilike", F_ILIKE, 2, 3, "s ilike pat [escape c], ilike(s, pat [, c])",
    "like, ignoring case (Unicode lower case)."),
  S("regexp_matches", F_RX_MATCHES, 2, 2, "regexp_matches(s, re)",
    "True when the regular expression (PCRE2) matches somewhere in the text."),
  S("regexp_replace", F_RX_REPLACE, 3, 3, "regexp_replace(s, re, rep)",
    "The text with every match of re replaced by rep (\\1 .. \\9: its groups, \\0: the match)."),
  S("regexp_extract", F_RX_EXTRACT, 2, 3, "regexp_extract(s, re [, group])",
    "The first match of re (or its group), '' when none."),
  S("in", F_IN, 2, 4096, "x in (a, b, ...), x not in (...)",
    "True when x equals one of the values; null when none does and x or a value is null."),
  S("nullif", F_NULLIF, 2, 2, "nullif(a, b)", "a, or null where a equals b."),
  S("greatest", F_GREATEST, 1, 64, "greatest(x, y, ...)",
    "The largest of the arguments not null (NaN above every number)."),
  S("least", F_LEAST, 1, 64, "least(x, y, ...)", "The smallest of the arguments not null."),
  S("is_nan", F_IS_NAN, 1, 1, "is_nan(x)", "True when x is the float NaN."),
  S("sign", F_SIGN, 1, 1, "sign(x)", "-1, 0 or 1 by the sign of x (0 for NaN)."),
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
  /* aggregates of pairs, of bools and more (core/agg/pairs.c, bools.c) */
  A("corr", AGG_CORR, 2, 2, "corr(x, y)", "The correlation coefficient of the pairs with neither null."),
  A("covar", AGG_COVAR, 2, 2, "covar(x, y)",
    "The sample covariance of the pairs with neither null (DuckDB's covar_samp)."),
  A("regr_slope", AGG_REGR_SLOPE, 2, 2, "regr_slope(y, x)",
    "The slope of the least-squares line of y on x."),
  A("regr_intercept", AGG_REGR_INTERCEPT, 2, 2, "regr_intercept(y, x)",
    "The intercept of the least-squares line of y on x."),
  A("mode", AGG_MODE, 1, 1, "mode(x)", "The most frequent value (the smallest among ties)."),
  A("arg_min", AGG_ARG_MIN, 2, 2, "arg_min(x, by)",
    "x of the row where by is smallest (the first such row)."),
  A("arg_max", AGG_ARG_MAX, 2, 2, "arg_max(x, by)",
    "x of the row where by is largest (the first such row)."),
  A("count_if", AGG_COUNT_IF, 1, 1, "count_if(cond)", "The number of rows where cond is true."),
  A("bool_and", AGG_BOOL_AND, 1, 1, "bool_and(cond)", "True when cond is true in every row not null."),
  A("bool_or", AGG_BOOL_OR, 1, 1, "bool_or(cond)", "True when cond is true in some row."),
  A("product", AGG_PRODUCT, 1, 1, "product(x)", "The product of the values (a float)."),
  A("string_agg", AGG_STRING_AGG, 1, 2, "string_agg(s [, sep])",
    "The texts not null joined by sep (',' by default), in row order."),
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
