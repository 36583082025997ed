/*
** keys.c -- expressions as the keys of group_by, sort, top and distinct. A
** key that is exactly a column's name is that column ("No. of
** participants" too), and so is a plain identifier (whose absence is the
** verb's "unknown column" error); anything else is an expression, computed
** as a column named by its `name =` or by its text ("y = year(date)",
** "abs(change)"). In sort and top a leading '-' still means descending.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "keys.h"

static int is_identifier(const char *s) {
  if (!(isalpha((unsigned char)*s) || *s == '_')) return 0;
  for (s++; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
  return 1;
}

/* `name = expr`: the name and where the expression starts; else NULL. */
static char *named(const char *s, const char **expr) {
  const char *p = s;
  while (isspace((unsigned char)*p)) p++;
  const char *b = p;
  if (!(isalpha((unsigned char)*p) || *p == '_')) return NULL;
  while (isalnum((unsigned char)*p) || *p == '_') p++;
  const char *e = p;
  while (isspace((unsigned char)*p)) p++;
  if (*p != '=' || p[1] == '=') return NULL;
  *expr = p + 1;
  char *n = tl_alloc((size_t)(e - b) + 1);
  if (n) { memcpy(n, b, (size_t)(e - b)); n[e - b] = '\0'; }
  return n;
}

void tl_keys_free(tl_keys *k) {
  for (int i = 0; k->owned && i < k->n; i++) tl_free(k->owned[i]);
  tl_free(k->owned);
  tl_free(k->keys);
  tl_free(k->added);
  tl_table_release(k->t);
  memset(k, 0, sizeof *k);
}

/* Key i as an expression: its column added to k->t under its name. */
static tl_status add_expression(tl_keys *k, int i, const char *body, int desc, const char *op,
                                tl_error *err) {
  const char *src = body;
  char *name = named(body, &src);
  if (!name) {
    while (isspace((unsigned char)*body)) body++;
    name = tl_strdup(body);
  }
  if (name && k->hidden) {            /* sort and top drop it again: a name of no column */
    tl_free(name);
    name = tl_alloc(32);
    if (name) snprintf(name, 32, "\x01key%d", i);
  }
  if (!name) return tl_error_oom(err, op);
  tl_column *c = NULL;
  tl_table *next = NULL;
  tl_status st = tl_table_eval(k->t, src, op, &c, err);
  if (st == TL_OK) st = tl_table_set_column(k->t, name, c, &next, err);
  tl_column_release(c);
  if (st == TL_OK) {
    tl_table_release(k->t);
    k->t = next;
    size_t len = strlen(name);
    k->owned[i] = tl_alloc(len + 2);
    if (!k->owned[i]) st = tl_error_oom(err, op);
  }
  if (st == TL_OK) {
    k->owned[i][0] = '-';
    memcpy(k->owned[i] + 1, name, strlen(name) + 1);
    k->keys[i] = k->owned[i] + !desc;
    k->added[k->nadded++] = k->owned[i] + 1;
  }
  tl_free(name);
  return st;
}

tl_status tl_keys_resolve(const tl_table *t, int n, const char *const *keys, int signs,
                          const char *op, tl_keys *k, tl_error *err) {
  memset(k, 0, sizeof *k);
  k->hidden = signs;
  k->t = tl_table_retain((tl_table *)t);
  k->n = n;
  k->keys = tl_calloc((size_t)n + 1, sizeof *k->keys);
  k->owned = tl_calloc((size_t)n + 1, sizeof *k->owned);
  k->added = tl_calloc((size_t)n + 1, sizeof *k->added);
  if (!k->keys || !k->owned || !k->added) { tl_keys_free(k); return tl_error_oom(err, op); }
  for (int i = 0; i < n; i++) {
    const char *s = keys[i];
    k->keys[i] = s;
    if (!s || tl_table_find(t, s) >= 0) continue;
    int desc = signs && s[0] == '-';
    const char *body = s + desc;
    if (tl_table_find(t, body) >= 0 || is_identifier(body) || !*body) continue;
    tl_status st = add_expression(k, i, body, desc, op, err);
    if (st != TL_OK) { tl_keys_free(k); return st; }
  }
  return TL_OK;
}

tl_status tl_keys_drop_added(const tl_keys *k, tl_table **t, tl_error *err) {
  if (k->nadded == 0) return TL_OK;
  tl_table *u = NULL;
  TL_TRY(tl_table_drop(*t, k->nadded, k->added, &u, err));
  tl_table_release(*t);
  *t = u;
  return TL_OK;
}
