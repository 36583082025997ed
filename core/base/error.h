/*
** error.h -- filling tl_error and propagating status codes.
*/
#ifndef TL_ERROR_H
#define TL_ERROR_H

#include "tally/tally.h"

#if defined(__GNUC__)
#define TL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TL_PRINTF(f, a)
#endif

/* Sets err (when not NULL) and returns code, so callers can
** `return tl_error_set(err, TL_EINVAL, "...")`. */
tl_status tl_error_set(tl_error *err, tl_status code, const char *fmt, ...) TL_PRINTF(3, 4);
/* "<op>: out of memory" */
tl_status tl_error_oom(tl_error *err, const char *op);

/* "<op>: interrupted" */
tl_status tl_error_interrupted(tl_error *err, const char *op);

/* Propagates a failing status to the caller. */
#define TL_TRY(expr) do { tl_status tl_s_ = (expr); if (tl_s_ != TL_OK) return tl_s_; } while (0)

#endif
