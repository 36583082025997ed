/*
** lcolops.c -- operators on tally.Column: arithmetic, comparison and mask
** logic. Each one puts its column operands in a small table as `a` and `b`
** and has the core evaluate an expression over it ("`a` >= 2016"), so the
** semantics (types, nulls, division by zero) are those of expression strings.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"

/* The operands of one operation: up to two columns. */
typedef struct operands {
  const char *op;
  int n;
  const char *names[2];
  tl_column *cols[2];
  const char *labels[2];                         /* the columns' own names */
  const char *result;                            /* the result's name: the first column's */
} operands;

/* Pushes the Lua value at idx as a literal of the expression language. */
static void push_literal(lua_State *L, int idx, const char *op) {
  char buf[64];
  if (lt_isnull(L, idx)) {
    lua_pushliteral(L, "null");
    return;
  }
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        lua_Integer v = lua_tointeger(L, idx);
        if (v == LUA_MININTEGER)
          snprintf(buf, sizeof buf, "(" LUA_INTEGER_FMT " - 1)", v + 1);
        else
          snprintf(buf, sizeof buf, v < 0 ? "(" LUA_INTEGER_FMT ")" : LUA_INTEGER_FMT, v);
      } else {
        double v = (double)lua_tonumber(L, idx);
        if (isnan(v)) {
          luaL_error(L, "%s: nan cannot be used in a column expression", op);
          return;
        }
        if (isinf(v)) {
          snprintf(buf, sizeof buf, v < 0 ? "(-1e999)" : "1e999");
        } else {
          snprintf(buf, sizeof buf, "%.17g", v);
          if (strpbrk(buf, ".e") == NULL)
            strcat(buf, ".0");                   /* stays a float literal */
          if (v < 0) {
            memmove(buf + 1, buf, strlen(buf) + 1);
            buf[0] = '(';
            strcat(buf, ")");
          }
        }
      }
      lua_pushstring(L, buf);
      return;
    case LUA_TSTRING: {
      size_t len, i;
      const char *s = lua_tolstring(L, idx, &len);
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      luaL_addchar(&b, '\'');
      for (i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\') {
          luaL_addchar(&b, '\\');
          luaL_addchar(&b, s[i]);
        } else if (s[i] == '\0') {
          luaL_addstring(&b, "\\0");
        } else {
          luaL_addchar(&b, s[i]);
        }
      }
      luaL_addchar(&b, '\'');
      luaL_pushresult(&b);
      return;
    }
    default:
      luaL_error(L, "%s: cannot use a %s value in a column expression", op,
                 luaL_typename(L, idx));
  }
}

/* Appends the operand at idx: a column as `a` or `b`, else a literal. */
static void add_operand(lua_State *L, luaL_Buffer *b, int idx, operands *o) {
  lt_column *c = luaL_testudata(L, idx, LT_COLUMN);
  if (c == NULL) {
    push_literal(L, idx, o->op);
    luaL_addvalue(b);
    return;
  }
  if (c->c == NULL)
    luaL_error(L, "%s: the column is closed", o->op);
  o->names[o->n] = o->n == 0 ? "a" : "b";
  o->cols[o->n] = c->c;
  o->labels[o->n] = c->name;
  if (o->result == NULL)
    o->result = c->name;
  luaL_addchar(b, '`');
  luaL_addstring(b, o->names[o->n]);
  luaL_addchar(b, '`');
  o->n++;
}

/* The core names the place in the expression it was given ("add: \"`a` +
** 1\": arithmetic on string and int at column 5"), which the caller never
** wrote; say which columns instead: "add: column 'program': arithmetic on
** string and int". Other messages are raised as they are. */
static int eval_error(lua_State *L, const operands *o, tl_status st, const tl_error *err) {
  size_t len;
  const char *reason = tl_error_reason(err, &len);
  if (err->message[0] == '\0' || err->position == 0 || strcmp(tl_error_op(err), o->op) != 0)
    return lt_core_error(L, st, err);
  lua_pushlstring(L, reason, len);
  if (o->n == 2)
    return luaL_error(L, "%s: columns '%s' and '%s': %s", o->op, o->labels[0], o->labels[1],
                      lua_tostring(L, -1));
  return luaL_error(L, "%s: column '%s': %s", o->op, o->labels[0], lua_tostring(L, -1));
}

/* Evaluates the expression at the top of the stack over the operands and
** replaces it with the result, a new tally.Column. */
static int eval(lua_State *L, operands *o) {
  const char *expr = lt_cstring(L, -1, "%s: a string operand", o->op);   /* only they hold text */
  lt_table *tmp;
  lt_column *res;
  tl_error err;
  tl_status st;
  if (o->n == 0)
    return luaL_error(L, "%s: expected a column operand", o->op);
  if (o->n == 2 && tl_column_length(o->cols[0]) != tl_column_length(o->cols[1]))
    return luaL_error(L, "%s: the columns have %I and %I rows", o->op,
                      (lua_Integer)tl_column_length(o->cols[0]),
                      (lua_Integer)tl_column_length(o->cols[1]));
  tmp = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_new(o->n, o->names, o->cols, &tmp->t, &err), &err);
  res = lt_new_column(L, o->result);
  st = tl_table_eval(tmp->t, expr, o->op, &res->c, &err);
  if (st != TL_OK)
    return eval_error(L, o, st, &err);
  return 1;
}

/* x <sym> y, for metamethods (either side may be the column) and methods
** (the column first). */
static int binary(lua_State *L, const char *op, const char *sym) {
  operands o;
  luaL_Buffer b;
  memset(&o, 0, sizeof o);
  o.op = op;
  lua_settop(L, 2);
  luaL_buffinit(L, &b);
  add_operand(L, &b, 1, &o);
  luaL_addchar(&b, ' ');
  luaL_addstring(&b, sym);
  luaL_addchar(&b, ' ');
  add_operand(L, &b, 2, &o);
  luaL_pushresult(&b);
  return eval(L, &o);
}

/* <pre>x<post>: unary minus, not, is_null. */
static int unary(lua_State *L, const char *op, const char *pre, const char *post) {
  operands o;
  luaL_Buffer b;
  memset(&o, 0, sizeof o);
  o.op = op;
  lt_check_column(L, 1);
  lua_settop(L, 1);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, pre);
  add_operand(L, &b, 1, &o);
  luaL_addstring(&b, post);
  luaL_pushresult(&b);
  return eval(L, &o);
}

static int method(lua_State *L, const char *op, const char *sym) {
  lt_check_column(L, 1);
  luaL_checkany(L, 2);
  return binary(L, op, sym);
}

static int c_add(lua_State *L) { return binary(L, "add", "+"); }
static int c_sub(lua_State *L) { return binary(L, "sub", "-"); }
static int c_mul(lua_State *L) { return binary(L, "mul", "*"); }
static int c_div(lua_State *L) { return binary(L, "div", "/"); }
static int c_idiv(lua_State *L) { return binary(L, "idiv", "//"); }
static int c_mod(lua_State *L) { return binary(L, "mod", "%"); }
static int c_pow(lua_State *L) { return binary(L, "pow", "^"); }
static int c_concat(lua_State *L) { return binary(L, "concat", ".."); }
static int c_band(lua_State *L) { return binary(L, "and", "and"); }
static int c_bor(lua_State *L) { return binary(L, "or", "or"); }
static int c_unm(lua_State *L) { return unary(L, "unm", "-(", ")"); }
static int c_bnot(lua_State *L) { return unary(L, "not", "not (", ")"); }

static int c_eq(lua_State *L) { return method(L, "eq", "=="); }
static int c_ne(lua_State *L) { return method(L, "ne", "~="); }
static int c_lt(lua_State *L) { return method(L, "lt", "<"); }
static int c_le(lua_State *L) { return method(L, "le", "<="); }
static int c_gt(lua_State *L) { return method(L, "gt", ">"); }
static int c_ge(lua_State *L) { return method(L, "ge", ">="); }
static int c_is_null(lua_State *L) { return unary(L, "is_null", "is_null(", ")"); }

/* Appends values [lo, hi) of the list at index 2 as a balanced tree of
** "or", so that long lists do not make a deep expression. */
static void add_isin(lua_State *L, luaL_Buffer *b, lua_Integer lo, lua_Integer hi,
                     operands *o) {
  if (hi - lo == 1) {
    luaL_addstring(b, "`a` == ");
    lua_rawgeti(L, 2, lo);
    push_literal(L, lua_gettop(L), o->op);
    lua_remove(L, -2);                           /* the value; its literal stays on top */
    luaL_addvalue(b);
  } else {
    lua_Integer mid = lo + (hi - lo) / 2;
    luaL_addchar(b, '(');
    add_isin(L, b, lo, mid, o);
    luaL_addstring(b, ") or (");
    add_isin(L, b, mid, hi, o);
    luaL_addchar(b, ')');
  }
}

/* c:isin{v1, v2, ...}: true where the value is one of the list. */
static int c_isin(lua_State *L) {
  lt_column *c = lt_check_column(L, 1);
  lua_Integer n;
  operands o;
  luaL_Buffer b;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  memset(&o, 0, sizeof o);
  o.op = "isin";
  o.n = 1;
  o.names[0] = "a";
  o.cols[0] = c->c;
  o.labels[0] = c->name;
  o.result = c->name;
  n = lt_array_len(L, 2, "isin", "the list of values", LT_OTHER_KEYS, LUA_MAXINTEGER);
  luaL_buffinit(L, &b);
  if (n == 0)
    luaL_addstring(&b, "false");
  else
    add_isin(L, &b, 1, n + 1, &o);
  luaL_pushresult(&b);
  return eval(L, &o);
}

const luaL_Reg lt_colop_methods[] = {
  {"eq", c_eq},
  {"ne", c_ne},
  {"lt", c_lt},
  {"le", c_le},
  {"gt", c_gt},
  {"ge", c_ge},
  {"is_null", c_is_null},
  {"isin", c_isin},
  {NULL, NULL}
};

const luaL_Reg lt_colop_meta[] = {
  {"__add", c_add},
  {"__sub", c_sub},
  {"__mul", c_mul},
  {"__div", c_div},
  {"__idiv", c_idiv},
  {"__mod", c_mod},
  {"__pow", c_pow},
  {"__unm", c_unm},
  {"__concat", c_concat},
  {"__band", c_band},
  {"__bor", c_bor},
  {"__bnot", c_bnot},
  {NULL, NULL}
};
