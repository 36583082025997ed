/*
** csv_write.c -- writing a table as CSV: a header line, then one line a
** row; text is quoted when it must be, and a null is an empty field.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/column.h"
#include "base/error.h"
#include "base/parse.h"
#include "base/table.h"
#include "csv.h"
#include "tally/tally.h"

static int needs_quotes(const char *s, size_t n) {
  if (n == 0) return 1;   /* so that an empty string reads back as one, not as null */
  for (size_t i = 0; i < n; i++)
    if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') return 1;
  return 0;
}

static void put_text(FILE *f, const char *s, size_t n) {
  if (!needs_quotes(s, n)) { fwrite(s, 1, n, f); return; }
  putc('"', f);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') putc('"', f);
    putc(s[i], f);
  }
  putc('"', f);
}

void csv_write_header(FILE *f, const tl_table *t) {
  for (int j = 0; j < t->ncol; j++) {
    if (j) putc(',', f);
    put_text(f, t->names[j], strlen(t->names[j]));
  }
  putc('\n', f);
}

int csv_write_rows(FILE *f, const tl_table *t) {
  char num[128];
  for (int64_t i = 0; i < t->nrows; i++) {
    if ((i & 0xffff) == 0 && tl_interrupted()) return 0;
    for (int j = 0; j < t->ncol; j++) {
      const tl_column *c = t->cols[j];
      if (j) putc(',', f);
      if (tl_column_is_null(c, i)) continue;
      if (c->type == TL_STRING) {
        size_t n;
        const char *s = tl_column_string_at(c, i, &n);
        put_text(f, s, n);
      } else if (c->type == TL_INT) {
        fprintf(f, "%lld", (long long)((const int64_t *)c->values)[i]);
      } else {
        tl_scalar v;
        tl_column_get(c, i, &v);
        size_t n = tl_scalar_format(&v, num, sizeof num);
        fwrite(num, 1, n < sizeof num ? n : sizeof num - 1, f);
      }
    }
    putc('\n', f);
  }
  return 1;
}

tl_status tl_write_csv(const tl_table *t, const char *path, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "write_csv", err));
  tl_status st = tl_table_check_utf8(t, "write_csv", err);   /* read_csv wants UTF-8 */
  if (st != TL_OK)
    return st;
  if (tl_interrupted()) return tl_error_interrupted(err, "write_csv");
  FILE *f = fopen(path, "wb");
  if (!f)
    return tl_error_set(err, TL_EIO, "write_csv: cannot open '%s': %s", path, strerror(errno));
  char vbuf[1 << 16];
  setvbuf(f, vbuf, _IOFBF, sizeof vbuf);
  csv_write_header(f, t);
  if (!csv_write_rows(f, t)) {   /* no half of a file is left */
    fclose(f);
    remove(path);
    return tl_error_interrupted(err, "write_csv");
  }
  int bad = ferror(f);
  int e = errno;
  if (fclose(f) != 0 && !bad) { bad = 1; e = errno; }
  if (bad)
    return tl_error_set(err, TL_EIO, "write_csv: cannot write '%s': %s", path, strerror(e));
  return TL_OK;
}
