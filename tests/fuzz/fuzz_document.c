/*
** fuzz_document.c -- the reader of tables embedded in text reports, on any
** bytes; the first byte chooses the cell separator. Every table found must
** read back in full.
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const char seps[4] = { 0, '\t', ',', '|' };
  tl_document_options o;
  tl_document_options_init(&o);
  o.sep = seps[data[0] & 3];
  tl_document *d = NULL;
  tl_error err = { 0 };
  tl_status st = tl_read_document_buffer((const char *)data + 1, size - 1, "fuzz.txt", &o, &d,
                                         &err);
  if (st == TL_OK) {
    for (int k = 0; k < tl_document_count(d); k++) {
      fuzz_touch(tl_document_table(d, k));
      const char *title = tl_document_title(d, k);
      if (title) FUZZ_ASSERT(strlen(title) < size, "title longer than the input");
      int64_t tl, first, last;
      tl_document_lines(d, k, &tl, &first, &last);
      FUZZ_ASSERT(first >= 1 && first <= last, "lines %lld..%lld", (long long)first,
                  (long long)last);
      for (int j = 0; j < tl_table_ncols(tl_document_table(d, k)); j++) {
        const char *unit = tl_document_unit(d, k, j);
        if (unit) FUZZ_ASSERT(strlen(unit) < size, "unit longer than the input");
      }
    }
    tl_document_free(d);
  } else {
    FUZZ_ASSERT(err.message[0] != '\0', "status %d without a message", (int)st);
  }
  return 0;
}
