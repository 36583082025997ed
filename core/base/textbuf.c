/*
** textbuf.c -- a growing text buffer for the core's writers.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "textbuf.h"

void tl_textbuf_add(tl_textbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = tl_realloc(b->p, cap);
    if (!p) { b->failed = 1; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void tl_textbuf_str(tl_textbuf *b, const char *s) { tl_textbuf_add(b, s, strlen(s)); }

void tl_textbuf_printf(tl_textbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) tl_textbuf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
