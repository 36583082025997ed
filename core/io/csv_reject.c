/*
** csv_reject.c -- what read_csv tells beside its table (tl_csv_info): the
** records skipped under on_error = "skip", as a table of rejects, and per
** inferred column the value that decided its type.
*/
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/parse.h"
#include "base/error.h"
#include "base/table.h"
#include "csv.h"

struct tl_csv_info {
  tl_table *rejects;
  char **reasons;
  int ncol;
  int64_t records;
};

void tl_csv_info_free(tl_csv_info *info) {
  if (!info) return;
  tl_table_release(info->rejects);
  for (int j = 0; info->reasons && j < info->ncol; j++) tl_free(info->reasons[j]);
  tl_free(info->reasons);
  tl_free(info);
}

const tl_table *tl_csv_info_rejects(const tl_csv_info *info) { return info->rejects; }

const char *tl_csv_info_reason(const tl_csv_info *info, int j) {
  return j >= 0 && j < info->ncol ? info->reasons[j] : NULL;
}

int64_t tl_csv_info_records(const tl_csv_info *info) { return info->records; }

/* Why an inferred column is not of the type of its first value: the value
** that took away the last of the types preferred to its own. Each bit's
** first killer is known (merged in file order), so that value is the
** latest of them. NULL when the first value decided. */
static tl_status reason_of(const colinfo *c, int infer, char **out) {
  *out = NULL;
  if (c->forced || !infer) return TL_OK;
  if (c->values == 0) {
    *out = tl_strdup("no values to infer from: every field is null");
    return *out ? TL_OK : TL_ENOMEM;
  }
  unsigned below = c->type == TL_STRING ? CAN_ALL : csv_can_of(c->type) - 1, lost = 0;
  const field *last = NULL;
  for (int b = 0; b < NCAN; b++) {
    const field *k = &c->kill[b];
    if (!(below & (1u << b)) || !k->p) continue;
    if (!last || k->p > last->p) { last = k; lost = 1u << b; }
    else if (k->p == last->p) lost |= 1u << b;
  }
  if (!last || last->p == c->first.p) return TL_OK;
  int64_t dummy;
  const char *what = (lost & CAN_FLOAT) ? "is not a number"
                     : (lost & CAN_INT) ? (tl_parse_int(last->p, last->n, &dummy) == -1
                                               ? "does not fit in a 64-bit integer"
                                               : "is not an integer")
                     : (lost & CAN_DATE) ? "is not a date"
                     : (lost & CAN_TS) ? "is not a timestamp" : "is not a boolean";
  char val[64];
  size_t n = 0;
  for (size_t i = 0; i < last->n && n < 40; n++) {   /* the head, doubled quotes undone */
    char ch = last->p[i];
    i += (ch == '"' && last->len != last->n) ? 2 : 1;
    val[n] = (unsigned char)ch < 0x20 ? '?' : ch;
  }
  val[n] = '\0';
  char buf[256];
  snprintf(buf, sizeof buf, "'%s%s' at line %lld %s", val, last->len > n ? "..." : "",
           (long long)last->line, what);
  *out = tl_strdup(buf);
  return *out ? TL_OK : TL_ENOMEM;
}

static const char *const bad_class[] = { "too_few_fields", "too_many_fields", "invalid_utf8",
                                         "forced_type", "field_too_large" };

/* The rejects of every chunk, in file order, as a table. */
static tl_status make_rejects(const reader *r, const csvrun *run, tl_table **out) {
  enum { NC = 6 };
  static const char *const names[NC] = { "line", "record", "field", "column", "class", "excerpt" };
  static const tl_type types[NC] = { TL_INT, TL_INT, TL_INT, TL_STRING, TL_STRING, TL_STRING };
  tl_builder *b[NC] = { NULL };
  tl_column *c[NC] = { NULL };
  tl_status st = TL_OK;
  tl_error *err = r->err;
  int64_t n = 0;
  for (int k = 0; k < run->njobs; k++) n += run->jobs[k].nrej;
  for (int j = 0; j < NC && st == TL_OK; j++) st = tl_builder_new(types[j], n, &b[j], err);
  for (int k = 0; k < run->njobs && st == TL_OK; k++) {
    const job *jb = &run->jobs[k];
    for (int64_t i = 0; i < jb->nrej && st == TL_OK; i++) {
      const reject *x = &jb->rej[i];
      char ex[64];
      size_t len = csv_excerpt(r, x->where, x->field_only, ex);
      const char *cls = bad_class[x->cls];
      st = tl_builder_append_int(b[0], x->line + jb->line0, err);
      if (st == TL_OK) st = tl_builder_append_int(b[1], x->rec + jb->rec0 + 1, err);
      if (st == TL_OK) st = tl_builder_append_int(b[2], x->fieldno, err);
      if (st == TL_OK)
        st = x->fieldno >= 1 && x->fieldno <= r->ncol
                 ? tl_builder_append_string(b[3], r->names[x->fieldno - 1],
                                            strlen(r->names[x->fieldno - 1]), err)
                 : tl_builder_append_null(b[3], err);
      if (st == TL_OK) st = tl_builder_append_string(b[4], cls, strlen(cls), err);
      if (st == TL_OK) st = tl_builder_append_string(b[5], ex, len, err);
    }
  }
  for (int j = 0; j < NC; j++) {
    tl_builder *bj = b[j];
    b[j] = NULL;
    if (st == TL_OK) st = tl_builder_finish(bj, &c[j], err);   /* frees bj */
    else tl_builder_free(bj);
  }
  if (st == TL_OK) st = tl_table_new(NC, names, c, out, err);
  for (int j = 0; j < NC; j++) tl_column_release(c[j]);
  return st;
}

/* The info of a load: the records read, the reasons and the rejects. *out
** is set even on failure, for the caller to free. */
tl_status csv_make_info(const reader *r, const csvrun *run, int64_t records,
                        tl_csv_info **out) {
  int nout = r->nout;
  tl_status st = TL_OK;
  tl_csv_info *inf = tl_calloc(1, sizeof *inf);
  if (inf) inf->reasons = tl_calloc((size_t)nout + 1, sizeof *inf->reasons);
  if (!inf || !inf->reasons) st = tl_error_oom(r->err, "read_csv");
  if (inf) { inf->ncol = nout; inf->records = records; }
  for (int j = 0; j < nout && st == TL_OK; j++)
    if (reason_of(&run->ci[j], r->o->infer, &inf->reasons[j]) != TL_OK)
      st = tl_error_oom(r->err, "read_csv");
  if (st == TL_OK) st = make_rejects(r, run, &inf->rejects);
  *out = inf;
  return st;
}
