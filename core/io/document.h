/*
** document.h -- what read_document does, counted (internal: for the tests
** that bound its work).
*/
#ifndef TL_DOCUMENT_H
#define TL_DOCUMENT_H

#include <stdint.h>

#include "tally/tally.h"

/* tl_read_document_buffer, and in *steps (when not NULL) the rows, cells
** and bytes it looked at: a bounded multiple of the input's size,
** whatever its shape. */
TL_NODISCARD tl_status tl_read_document_steps(const char *text, size_t len, const char *name,
                                              const tl_document_options *opts,
                                              tl_document **out, uint64_t *steps,
                                              tl_error *err);

#endif
