/*
** error.c -- status names and error messages. A message starts with the
** operation's name ("join: ..."); tl_error_set records that name in
** err->op once, so that callers re-attribute or take apart an error through
** its fields rather than by reading the text back.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
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

/* The length of the operation's name that opens msg: a run of letters,
** digits, '_' and '.' followed by ':', short enough for tl_error.op; 0 when
** msg opens otherwise ("function 'f': ..."). */
static size_t lead(const char *msg) {
  size_t n = 0;
  while ((msg[n] >= 'a' && msg[n] <= 'z') || (msg[n] >= 'A' && msg[n] <= 'Z') ||
         (msg[n] >= '0' && msg[n] <= '9') || msg[n] == '_' || msg[n] == '.')
    n++;
  return msg[n] == ':' && n < TL_ERROR_OP_SIZE ? n : 0;
}

/* The op, and a reason that is the whole detail. */
static void set_fields(tl_error *err) {
  size_t n = lead(err->message);
  memcpy(err->op, err->message, n);
  err->op[n] = '\0';
  err->position = 0;
  err->reason_at = (int)(tl_error_detail(err) - err->message);
  err->reason_len = (int)strlen(err->message + err->reason_at);
}

tl_status tl_error_set(tl_error *err, tl_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
    set_fields(err);
  }
  return code;
}

tl_status tl_error_expr(tl_error *err, tl_status code, const char *op, const char *src,
                        int pos, const char *what) {
  int n = (int)strnlen(src, 600);
  const char *cut = src[n] ? "..." : "";
  tl_error_set(err, code, "%s: \"%.*s%s\": %s at column %d", op, n, src, cut, what, pos);
  if (err) {
    size_t len = strlen(err->message), at = strlen(op) + 3 + (size_t)n + strlen(cut) + 3;
    if (at > len) at = len;   /* a message cut at TL_ERROR_SIZE */
    err->position = pos;
    err->reason_at = (int)at;
    err->reason_len = (int)strnlen(what, len - at);
  }
  return code;
}

const char *tl_error_reason(const tl_error *err, size_t *len) {
  if (!err || !err->message[0]) { *len = 0; return ""; }
  *len = (size_t)err->reason_len;
  return err->message + err->reason_at;
}

const char *tl_error_op(const tl_error *err) {
  return err && err->message[0] ? err->op : "";
}

const char *tl_error_detail(const tl_error *err) {
  if (!err) return "";
  size_t n = lead(err->message);
  if (n == 0) return err->message;
  n++;                                   /* the ':' */
  return err->message + n + (err->message[n] == ' ');
}

void tl_error_rename(tl_error *err, const char *op) {
  if (!err || !err->message[0]) return;
  char detail[TL_ERROR_SIZE];
  int from = (int)(tl_error_detail(err) - err->message), pos = err->position;
  int at = err->reason_at - from, len = err->reason_len;
  snprintf(detail, sizeof detail, "%s", err->message + from);
  tl_error_set(err, err->code, "%s: %s", op, detail);
  if (pos == 0) return;   /* keep an expression's place, moved with the detail */
  int to = (int)(tl_error_detail(err) - err->message), n = (int)strlen(err->message);
  err->position = pos;
  err->reason_at = to + at < n ? to + at : n;
  err->reason_len = err->reason_at + len <= n ? len : n - err->reason_at;
}

tl_status tl_error_interrupted(tl_error *err, const char *op) {
  return tl_error_set(err, TL_EINTR, "%s: interrupted", op);
}

tl_status tl_error_oom(tl_error *err, const char *op) {
  size_t limit = tl_alloc_failed_limit();
  if (limit)   /* the limit, not the machine */
    return tl_error_set(err, TL_ENOMEM, "%s: out of memory (memory limit %zu bytes): raise it "
                        "with memory_limit or TALLY_MEMORY_LIMIT", op, limit);
  return tl_error_set(err, TL_ENOMEM, "%s: out of memory", op);
}
