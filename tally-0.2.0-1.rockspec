rockspec_format = "3.0"
package = "tally"
version = "0.2.0-1"
source = {
  url = "git+file:///tally",   -- `luarocks make` builds the checkout it runs in
  tag = "v0.2.0",
}
description = {
  summary = "A Lua-scriptable columnar analysis engine",
  detailed = [[
tally holds a dataset in memory as typed columns (Apache Arrow layout) and
lets Lua scripts filter, derive, group and aggregate it; every scan over
rows runs in C. require "tally" works in any Lua 5.4 host.
]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  XXHASH = { header = "xxhash.h" },
  JANSSON = { header = "jansson.h" },
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    TALLY_INSTALL_MODULE_ONLY = "ON",
    TALLY_INSTALL_LUA_CMOD_DIR = "$(LIBDIR)",
    TALLY_WITH_LIBEDIT = "OFF",
    BUILD_TESTING = "OFF",
  },
}
