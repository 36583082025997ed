/*
** fuzz_csv.c -- the CSV reader on any bytes. The first two bytes choose the
** options; the rest is the input, read at several chunk sizes and thread
** counts, which must all give the same table or the same error.
*/
#include "fuzz.h"
#include "testing.h"

static const char seps[8] = { 0, ',', ';', '\t', '|', ' ', ':', 'x' };
static const tl_type types[6] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE, TL_TIMESTAMP };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  unsigned flags = data[0], extra = data[1];
  const char *text = (const char *)data + 2;
  size_t len = size - 2;

  static const char *const nulls[] = { "", "NA", "null" };
  static const char *const tname[] = { "column1" };
  tl_type forced = types[extra % 6];
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.header = flags & 1;
  o.infer = !(flags & 2);
  if (flags & 4) { o.nulls = nulls; o.nnulls = 3; }
  if (flags & 8) o.comment = "#";
  o.sep = seps[(flags >> 4) & 7];
  if (flags & 0x80) { o.type_names = tname; o.types = &forced; o.ntypes = 1; }
  o.skip = (int)((extra >> 3) & 3);

  /* chunk size, threads: the default first, as the reference */
  const size_t chunks[4] = { 0, 1, 2 + (extra >> 5), 64 };
  const int threads[4] = { 1, 1, 4, 2 };
  tl_table *ref = NULL;
  tl_error ref_err = { 0 };
  tl_status ref_st = TL_OK;
  for (int k = 0; k < 4; k++) {
    if (k == 1 && len > 2048) continue;   /* a job per byte: keep the run fast */
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)chunks[k]);
    tl_set_threads(threads[k]);
    tl_table *t = NULL;
    tl_error err = { 0 };
    tl_status st = tl_read_csv_buffer(text, len, "fuzz.csv", &o, &t, &err);
    if (st == TL_OK) fuzz_touch(t);
    if (k == 0) { ref = t; ref_st = st; ref_err = err; continue; }
    FUZZ_ASSERT(st == ref_st, "chunk %zu threads %d: status %d, reference %d (%s | %s)",
                chunks[k], threads[k], (int)st, (int)ref_st, err.message, ref_err.message);
    if (st == TL_OK) {
      FUZZ_ASSERT(fuzz_same(ref, t), "chunk %zu threads %d: another table", chunks[k],
                  threads[k]);
    } else {
      FUZZ_ASSERT(strcmp(err.message, ref_err.message) == 0,
                  "chunk %zu threads %d: \"%s\", reference \"%s\"", chunks[k], threads[k],
                  err.message, ref_err.message);
    }
    tl_table_release(t);
  }
  tl_table_release(ref);
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
  tl_set_threads(0);
  return 0;
}
