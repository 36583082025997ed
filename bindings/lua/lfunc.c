/*
** lfunc.c -- scalar functions written in Lua: tally.func{...}, callable by
** name in expression strings.
**
** The core evaluates a function's arguments a vector at a time and hands
** them over; this file calls the Lua function once per row, under
** lua_pcall, and gives the core each result converted to the declared
** type. It is the slow path. Over many rows the calls run on the worker
** threads, in Lua states of their own (lworker.c) that hold a copy of the
** function; one that cannot be copied keeps them on the calling thread.
*/
#include <stdio.h>
#include <string.h>

#include "ltally.h"

/* The user value of a tally.Function is the Lua function it calls. */
typedef struct lt_function {
  tl_function f;
  lua_State *L;              /* the state of the call that uses it */
  lt_workers *workers;       /* while its calls run on the worker threads */
  int serial;                /* parallel = false: never on the workers */
  char name[64];
} lt_function;

#define LT_FUNCTION "tally.Function"
#define REGISTRY_KEY "tally.functions"   /* name -> tally.Function */

void lt_check_name_free(lua_State *L, const char *op, const char *name) {
  static const char *const kinds[] = { "", "scalar function", "aggregate", "window function" };
  const tl_function_info *f = tl_builtin_function(name);
  if (f) luaL_error(L, "%s: '%s' is a built-in %s", op, name, kinds[f->kind]);
  if (tl_expr_keyword(name))
    luaL_error(L, "%s: '%s' is a built-in name (a word of the expression language)", op, name);
}

static void push_selves(lua_State *L, const char *key) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
}

void lt_self_set(lua_State *L, const char *key, const void *p) {
  push_selves(L, key);
  lua_insert(L, -2);
  lua_rawsetp(L, -2, p);
  lua_pop(L, 1);
}

void lt_self_push(lua_State *L, const char *key, const void *p) {
  push_selves(L, key);
  lua_rawgetp(L, -1, p);
  lua_remove(L, -2);
}

#define SELF_KEY "tally.functions.self"

/* One vector's call into Lua. */
typedef struct fcall {
  lt_function *fn;
  const tl_fn_call *call;
  tl_fn_result *res;
  int64_t row;               /* the row being computed (1-based) */
  int worker;                /* in a worker's state: look for interrupts */
  tl_error core;             /* a failure of tl_fn_result_set */
} fcall;

/* Pushes argument value i of vector v: as a column's value reads in Lua. */
static void push_arg(lua_State *L, const tl_vector *v, int i) {
  tl_scalar s;
  if (!v->type || (v->valid && !v->valid[i])) {
    lua_pushnil(L);
    return;
  }
  switch (v->type) {
    case TL_INT: lua_pushinteger(L, (lua_Integer)v->i[i]); return;
    case TL_FLOAT: lua_pushnumber(L, (lua_Number)v->f[i]); return;
    case TL_BOOL: lua_pushboolean(L, v->b[i]); return;
    case TL_STRING: lua_pushlstring(L, v->sl[i] ? v->s[i] : "", (size_t)v->sl[i]); return;
    default:
      memset(&s, 0, sizeof s);
      s.type = v->type;
      if (v->type == TL_DATE) s.v.d = v->d[i];
      else s.v.i = v->i[i];
      lt_push_scalar(L, &s);
  }
}

/* "YYYY-MM-DD" and "YYYY-MM-DD[T ]HH:MM:SS[.ffffff]" (ISO 8601 as dates and
** timestamps read in Lua). Returns 1 when s is one of `type`. */
static int parse_time(const char *s, size_t len, tl_type type, tl_scalar *out) {
  int y, m, d, hh = 0, mm = 0, ss = 0, n = 0;
  char sep = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 || m > 12 ||
      d < 1 || d > 31)
    return 0;
  int32_t days = tl_days_from_civil(y, m, d);
  int yy, mo, dd;   /* February 30 is no day: it must not become March 2 */
  tl_civil_from_days(days, &yy, &mo, &dd);
  if (yy != y || mo != m || dd != d || s[0] < '0' || s[0] > '9') return 0;
  if (type == TL_DATE) {
    if ((size_t)n != len) return 0;
    out->v.d = days;
    return 1;
  }
  int64_t frac = 0;
  if ((size_t)n < len) {
    int k = 0;
    if (sscanf(s + n, "%c%2d:%2d:%2d%n", &sep, &hh, &mm, &ss, &k) != 4 || k != 9 ||
        (sep != 'T' && sep != ' ') || hh > 23 || mm > 59 || ss > 59)
      return 0;
    n += k;
    if ((size_t)n < len && s[n] == '.') {
      int digits = 0;
      for (n++; (size_t)n < len && s[n] >= '0' && s[n] <= '9'; n++, digits++)
        if (digits < 6) frac = frac * 10 + (s[n] - '0');
      if (!digits) return 0;
      for (; digits < 6; digits++) frac *= 10;
    }
    if ((size_t)n != len) return 0;
  }
  out->v.i = (((int64_t)days * 24 + hh) * 60 + mm) * 60 * 1000000LL + ss * 1000000LL + frac;
  return 1;
}

/* Converts the Lua value at the top into a result of the function's type;
** raises an error naming the value when it does not convert. */
static void to_result(lua_State *L, lt_function *fn, tl_scalar *v) {
  tl_type want = fn->f.type;
  int t = lua_type(L, -1), ok = 0;
  memset(v, 0, sizeof *v);
  v->type = want;
  if (t == LUA_TNIL || lt_isnull(L, -1)) {
    v->is_null = 1;
    return;
  }
  switch (want) {
    case TL_BOOL:
      if ((ok = t == LUA_TBOOLEAN)) v->v.b = lua_toboolean(L, -1);
      break;
    case TL_INT:
      if (t == LUA_TNUMBER) {
        lua_Integer i = lua_tointegerx(L, -1, &ok);   /* 3.0 converts, 3.5 does not */
        if (ok) v->v.i = (int64_t)i;
      }
      break;
    case TL_FLOAT:
      if ((ok = t == LUA_TNUMBER)) v->v.f = (double)lua_tonumber(L, -1);
      break;
    case TL_STRING:
      if ((ok = t == LUA_TSTRING)) v->v.s.ptr = lua_tolstring(L, -1, &v->v.s.len);
      break;
    default: {
      size_t len;
      const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
      ok = s && parse_time(s, len, want, v);
      break;
    }
  }
  if (ok) return;
  int val = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "returned ");
  luaL_addstring(&b, lua_typename(L, t));
  luaL_addchar(&b, ' ');
  if (t == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, val, &len);
    lt_add_quoted(&b, s, len > 40 ? 40 : len);
    if (len > 40) luaL_addstring(&b, "...");
  } else if (t == LUA_TNUMBER || t == LUA_TBOOLEAN) {
    luaL_tolstring(L, val, NULL);
    luaL_addvalue(&b);
  } else {
    luaL_addstring(&b, "value");
  }
  luaL_addstring(&b, want == TL_INT ? ", which is not an " : ", which is not a ");
  luaL_addstring(&b, tl_type_name(want));
  luaL_pushresult(&b);
  lua_error(L);
}

/* The protected part of a call: fn for every selected row. */
static int p_call(lua_State *L) {
  fcall *fc = lua_touserdata(L, 1);
  const tl_fn_call *c = fc->call;
  lua_getiuservalue(L, 2, 1);
  int fidx = lua_gettop(L);
  luaL_checkstack(L, c->nargs + 4, "too many arguments");
  for (int k = 0; k < c->nsel; k++) {
    int i = c->sel[k];
    tl_scalar v;
    if (fc->worker && tl_interrupted()) luaL_error(L, "interrupted");
    fc->row = c->start + i + 1;
    lua_pushvalue(L, fidx);
    for (int j = 0; j < c->nargs; j++) push_arg(L, &c->args[j], i);
    lua_call(L, c->nargs, 1);
    to_result(L, fc->fn, &v);
    if (tl_fn_result_set(fc->res, i, &v, &fc->core) != TL_OK)
      return luaL_error(L, "%s", fc->core.message);
    lua_pop(L, 1);
  }
  return 0;
}

/* One vector's calls in state L: the caller's, or a worker's. */
static tl_status call_in(lt_function *fn, lua_State *L, const tl_fn_call *call,
                         tl_fn_result *res, tl_error *err) {
  fcall fc;
  memset(&fc, 0, sizeof fc);
  fc.fn = fn;
  fc.worker = L != fn->L;
  fc.call = call;
  fc.res = res;
  if (!lua_checkstack(L, 8)) return TL_ENOMEM;
  lua_pushcfunction(L, p_call);
  lua_pushlightuserdata(L, &fc);
  lt_self_push(L, SELF_KEY, fn);                 /* alive while registered or in a scan */
  if (lua_pcall(L, 2, 0, 0) == LUA_OK) return TL_OK;
  const char *msg = lt_error_text(L);
  tl_status st = fc.core.code == TL_ENOMEM ? TL_ENOMEM : tl_interrupted() ? TL_EINTR : TL_EINVAL;
  tl_error_set(err, st, "function '%s': row %lld: %s", fn->name, (long long)fc.row, msg);
  lua_pop(L, 1);
  return st;
}

static tl_status f_call(void *ud, const tl_fn_call *call, tl_fn_result *res, tl_error *err) {
  lt_function *fn = ud;
  return call_in(fn, fn->L, call, res, err);
}

/* In worker state W: registers the copy of the function (at 2) as `fn` (at 1). */
static int p_install(lua_State *W) {
  lt_function *fn = lua_touserdata(W, 1);
  lua_getfield(W, LUA_REGISTRYINDEX, REGISTRY_KEY);
  lua_newuserdatauv(W, 0, 1);
  lua_pushvalue(W, 2);
  lua_setiuservalue(W, -2, 1);
  lua_pushvalue(W, -1);
  lt_self_set(W, SELF_KEY, fn);
  lua_setfield(W, -2, fn->name);
  return 0;
}

static int f_fork(void *ud, int nworkers) {
  lt_function *fn = ud;
  lua_State *M = fn->L;
  if (fn->serial || fn->workers || !lua_checkstack(M, 4)) return 0;
  lt_self_push(M, SELF_KEY, fn);
  lua_getiuservalue(M, -1, 1);
  fn->workers = lt_workers_fork(M, nworkers, 1, p_install, fn);
  lua_pop(M, 2);
  return fn->workers != NULL;
}

static tl_status f_call_on(void *ud, int worker, const tl_fn_call *call, tl_fn_result *res,
                           tl_error *err) {
  lt_function *fn = ud;
  return call_in(fn, lt_workers_state(fn->workers, worker), call, res, err);
}

static void f_join(void *ud) {
  lt_function *fn = ud;
  lt_workers_close(fn->workers);
  fn->workers = NULL;
}

static const char *const func_keys[] = {"name", "fn", "type", "nulls", "parallel", NULL};

/* tally.func{ name =, fn =, type =, nulls =, parallel = } */
static int l_func(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lt_check_options(L, 1, "func", func_keys);
  lua_getfield(L, 1, "name");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    return luaL_error(L, "func: 'name' must be a non-empty string");
  const char *name = lt_cstring(L, -1, "func: 'name'");
  size_t len = strlen(name);
  if (len >= sizeof ((lt_function *)0)->name)
    return luaL_error(L, "func: name '%s' is too long", lt_echoz(L, name));
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (i > 0 && c >= '0' && c <= '9')))
      return luaL_error(L, "func: name '%s' is not an identifier", lt_echoz(L, name));
  }
  lt_check_name_free(L, "func", name);
  if (lua_getfield(L, 1, "fn") != LUA_TFUNCTION)
    return luaL_error(L, "func: 'fn' must be a function");
  lua_getfield(L, 1, "type");
  const char *tn = lua_type(L, -1) == LUA_TSTRING ? lt_cstring(L, -1, "func: 'type'") : NULL;
  tl_type type = tn ? tl_type_from_name(tn) : 0;
  if (!type)
    return luaL_error(L, "func: 'type' must name the result type (bool, int, float, string, "
                         "date, timestamp)");
  lua_getfield(L, 1, "nulls");
  int nulls = lua_toboolean(L, -1);
  int serial = lt_serial_option(L, 1, "func");
  /* an aggregate of the same name would hide the function */
  lua_getfield(L, LUA_REGISTRYINDEX, "tally.aggregates");
  if (lua_istable(L, -1) && lua_getfield(L, -1, name) != LUA_TNIL)
    return luaL_error(L, "func: '%s' is the name of an aggregate", name);

  lt_function *fn = lua_newuserdatauv(L, sizeof *fn, 1);
  memset(fn, 0, sizeof *fn);
  memcpy(fn->name, name, len + 1);
  fn->f.name = fn->name;
  fn->f.type = type;
  fn->f.nulls = nulls;
  fn->f.ud = fn;
  fn->f.call = f_call;
  fn->f.fork = f_fork;
  fn->f.call_on = f_call_on;
  fn->f.join = f_join;
  fn->serial = serial;
  lua_getfield(L, 1, "fn");
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, LT_FUNCTION);
  lua_pushvalue(L, -1);
  lt_self_set(L, SELF_KEY, fn);
  lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, fn->name);                 /* a later definition replaces it */
  lua_pop(L, 1);
  return 1;
}

/* Appends the Lua value at idx as a literal of the expression language. */
static void add_literal(lua_State *L, luaL_Buffer *b, int idx, const char *name) {
  char buf[64];
  switch (lt_isnull(L, idx) ? LUA_TNIL : lua_type(L, idx)) {
    case LUA_TNIL: luaL_addstring(b, "null"); return;
    case LUA_TBOOLEAN: luaL_addstring(b, lua_toboolean(L, idx) ? "true" : "false"); return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        snprintf(buf, sizeof buf, "(" LUA_INTEGER_FMT ")", lua_tointeger(L, idx));
      else   /* a float literal, also for integral values; 0/0 and 1/0 as expressions */
        snprintf(buf, sizeof buf, "(%.17e)", (double)lua_tonumber(L, idx));
      if (strstr(buf, "nan")) snprintf(buf, sizeof buf, "(0.0 / 0.0)");
      else if (strstr(buf, "inf")) snprintf(buf, sizeof buf, "(%s1e999)", buf[1] == '-' ? "-" : "");
      luaL_addstring(b, buf);
      return;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      luaL_addchar(b, '\'');
      for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\') luaL_addchar(b, '\\');
        if (s[i] == '\0') luaL_addstring(b, "\\0");
        else luaL_addchar(b, s[i]);
      }
      luaL_addchar(b, '\'');
      return;
    }
    default:
      luaL_error(L, "%s: cannot pass a %s to a function over columns", name,
                 luaL_typename(L, idx));
  }
}

/* f(x, ...): with a tally.Column among the arguments, the function over its
** rows (the core's slow path), a new column; else a plain call of the Lua
** function. */
static int fn_call(lua_State *L) {
  lt_function *fn = luaL_checkudata(L, 1, LT_FUNCTION);
  int top = lua_gettop(L), ncols = 0;
  for (int i = 2; i <= top; i++) ncols += luaL_testudata(L, i, LT_COLUMN) != NULL;
  if (!ncols) {
    lua_getiuservalue(L, 1, 1);
    lua_replace(L, 1);
    lua_call(L, top - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)ncols, 0);
  tl_column **cols = lua_newuserdatauv(L, sizeof *cols * (size_t)ncols, 0);
  const char *result = NULL;
  int k = 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, fn->name);
  luaL_addchar(&b, '(');
  for (int i = 2; i <= top; i++) {
    lt_column *c = luaL_testudata(L, i, LT_COLUMN);
    if (i > 2) luaL_addstring(&b, ", ");
    if (!c) { add_literal(L, &b, i, fn->name); continue; }
    if (!c->c) luaL_error(L, "%s: the column is closed", fn->name);
    if (k && tl_column_length(c->c) != tl_column_length(cols[0]))
      luaL_error(L, "%s: the columns have %I and %I rows", fn->name,
                 (lua_Integer)tl_column_length(cols[0]), (lua_Integer)tl_column_length(c->c));
    static const char *const argnames[] = { "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8" };
    if (k >= 8) luaL_error(L, "%s: more than 8 column arguments", fn->name);
    names[k] = argnames[k];
    cols[k++] = c->c;
    if (!result) result = c->name;
    luaL_addchar(&b, '`');
    luaL_addstring(&b, names[k - 1]);
    luaL_addchar(&b, '`');
  }
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  const char *expr = lua_tostring(L, -1);
  tl_scope scope;
  tally_lua_scope(L, &scope);
  lt_table *tmp = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_new(ncols, names, cols, &tmp->t, &err), &err);
  lt_column *res = lt_new_column(L, result);
  lt_call(L, tl_table_eval_with(tmp->t, expr, "call", &scope, &res->c, &err), &err);
  return 1;
}

static int fn_tostring(lua_State *L) {
  lt_function *fn = luaL_checkudata(L, 1, LT_FUNCTION);
  lua_pushfstring(L, "Function: %s (%s)", fn->name, tl_type_name(fn->f.type));
  return 1;
}

const tl_function **lt_functions(lua_State *L, int *n) {
  lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  int reg = lua_gettop(L);
  const tl_function **v = lt_functions_in(L, reg, n);
  lua_remove(L, reg);
  return v;
}

const tl_function **lt_functions_in(lua_State *L, int reg, int *n) {
  int count = 0;
  reg = lua_absindex(L, reg);
  lua_pushnil(L);
  while (lua_next(L, reg) != 0) { count++; lua_pop(L, 1); }
  const tl_function **v = lua_newuserdatauv(L, sizeof *v * (size_t)(count + 1), 1);
  lua_pushvalue(L, reg);
  lua_setiuservalue(L, -2, 1);   /* keeps the functions alive with the array */
  int k = 0;
  lua_pushnil(L);
  while (lua_next(L, reg) != 0) {   /* to the end: no key left behind */
    lt_function *fn = luaL_testudata(L, -1, LT_FUNCTION);
    if (fn && k < count) { fn->L = L; v[k++] = &fn->f; }
    lua_pop(L, 1);
  }
  *n = k;
  return v;
}

void tally_lua_scope(lua_State *L, tl_scope *scope) {
  scope->aggs = lt_aggregates(L, &scope->naggs);
  scope->funcs = lt_functions(L, &scope->nfuncs);
}

void lt_open_func(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__call", fn_call}, {"__tostring", fn_tostring}, {NULL, NULL}
  };
  luaL_newmetatable(L, LT_FUNCTION);
  luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY) != LUA_TTABLE) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_func);
  lua_setfield(L, -2, "func");   /* into the module table at the top */
}
