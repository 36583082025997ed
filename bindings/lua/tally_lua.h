/*
** tally_lua.h -- the Lua 5.4 binding of libtally.
**
** A host opens the module with luaL_requiref(L, "tally", luaopen_tally, 1)
** (or lets `require "tally"` find it) and hands its own tables to scripts
** with tally_push_table, without copying.
*/
#ifndef TALLY_LUA_H
#define TALLY_LUA_H

#include "lua.h"
#include "tally.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the module and leaves its table on the stack. */
int luaopen_tally(lua_State *L);

/* Pushes t as a tally.Table userdata; the userdata retains t, so the caller
** keeps its own reference. */
void tally_push_table(lua_State *L, tl_table *t);

/* The table at index idx; raises a Lua error when the value is not a
** tally.Table or the table has been closed. The pointer is borrowed: it is
** valid while the userdata is alive. */
tl_table *tally_check_table(lua_State *L, int idx);

#ifdef __cplusplus
}
#endif
#endif
