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
#include "tally/tally.h"

/* Linking: a C host that embeds Lua links libtally-lua, libtally and its own
** Lua (`pkg-config --cflags --libs tally-lua`, or tally::tally_lua with
** find_package(tally)); libtally-lua leaves the Lua API to the host. A Lua
** host needs nothing of this: `require "tally"` loads lib/lua/5.4/tally.so.
** Values handed across keep the ownership rule of tally.h: the binding
** retains what a userdata holds and never takes the caller's reference. */

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the module and leaves its table on the stack. */
TL_API int luaopen_tally(lua_State *L);

/* Pushes t as a tally.Table userdata; the userdata retains t, so the caller
** keeps its own reference. */
TL_API void tally_push_table(lua_State *L, tl_table *t);

/* The table at index idx; raises a Lua error when the value is not a
** tally.Table or the table has been closed. The pointer is borrowed: it is
** valid while the userdata is alive. */
TL_API tl_table *tally_check_table(lua_State *L, int idx);

/* Arrow interchange, as tally.Table:to_arrow and tally.from_arrow (here for
** a host that registers them elsewhere). Struct addresses cross Lua as light
** userdata; see tl_table_export_arrow and tl_table_import_arrow for what is
** shared and who releases what.
**
** t:to_arrow(schema, array) exports t into the host's two structs (light
** userdata) and returns them; the host then owns their contents and must
** release them (or hand them to a consumer that will).
** t:to_arrow() returns the addresses of two structs allocated for the call,
** owned by the Lua state: tally.from_arrow takes them, and those never taken
** are released when the state closes. A host consumer that moves them out
** in C should pass its own structs instead.
** tally.from_arrow(schema, array) imports the struct array into a new
** tally.Table; on success it moves both structs (their release members set
** to NULL, the buffers shared, not copied), on error it raises a Lua error
** and leaves them untouched. */
TL_API int tally_lua_to_arrow(lua_State *L);
TL_API int tally_lua_from_arrow(lua_State *L);

#ifdef __cplusplus
}
#endif
#endif
