-- luacheck's settings for the whole scripts (helpers included), as
-- .ci/run writes them out. Redis runs Lua 5.1 with these globals.
std = "lua51"
read_globals = { "redis", "KEYS", "ARGV", "cjson" }
-- include/names.lua defines every shared name; a script may use only some.
ignore = { "211/MARKER", "211/WATCHED", "211/VERSION_KEY" }
