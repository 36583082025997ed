/*
** error.c -- status names and error messages.
*/
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

const char *tl_status_string(tl_status code) {
  switch (code) {
    case TL_OK: return "ok";
    case TL_ENOMEM: return "out of memory";
    case TL_EINVAL: return "invalid argument";
    case TL_EIO: return "input/output error";
    case TL_EPARSE: return "parse error";
    case TL_ETYPE: return "type error";
    case TL_ERANGE: return "out of range";
    case TL_ELIMIT: return "limit exceeded";
    case TL_EINTR: return "interrupted";
  }
  return "unknown error";
}

tl_status tl_error_set(tl_error *err, tl_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

tl_status tl_error_interrupted(tl_error *err, const char *op) {
  return tl_error_set(err, TL_EINTR, "%s: interrupted", op);
}

tl_status tl_error_oom(tl_error *err, const char *op) {
  return tl_error_set(err, TL_ENOMEM, "%s: out of memory", op);
}
