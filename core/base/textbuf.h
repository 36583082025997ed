/*
** textbuf.h -- a growing text buffer for the core's writers (internal).
** A failed allocation is remembered, so that writers need check only once,
** at the end.
*/
#ifndef TL_TEXTBUF_H
#define TL_TEXTBUF_H

#include <stddef.h>

#include "error.h"

typedef struct tl_textbuf {
  char *p;        /* NUL-terminated once anything was added; tl_alloc'd */
  size_t len, cap;
  int failed;     /* an allocation failed: nothing more is added */
} tl_textbuf;

void tl_textbuf_add(tl_textbuf *b, const char *s, size_t n);
void tl_textbuf_str(tl_textbuf *b, const char *s);
/* Adds formatted text; up to 511 bytes a call. */
void tl_textbuf_printf(tl_textbuf *b, const char *fmt, ...) TL_PRINTF(2, 3);

#endif
