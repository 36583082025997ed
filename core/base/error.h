/*
** error.h -- filling tl_error and propagating status codes. tl_error_set,
** tl_error_op, tl_error_detail and tl_error_rename are public (tally.h).
*/
#ifndef TL_ERROR_H
#define TL_ERROR_H

#include "tally/tally.h"

#if defined(__GNUC__)
#define TL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TL_PRINTF(f, a)
#endif

/* An error in an expression: "<op>: \"<src>\": <what> at column <pos>",
** with the source cut to its first 600 bytes so that what is wrong fits. */
tl_status tl_error_expr(tl_error *err, tl_status code, const char *op, const char *src,
                        int pos, const char *what);

/* "<op>: out of memory" */
tl_status tl_error_oom(tl_error *err, const char *op);

/* "<op>: interrupted" */
tl_status tl_error_interrupted(tl_error *err, const char *op);

/* Propagates a failing status to the caller. */
#define TL_TRY(expr) do { tl_status tl_s_ = (expr); if (tl_s_ != TL_OK) return tl_s_; } while (0)

#endif
