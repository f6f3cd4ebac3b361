-- A field write of an update (update_field): the revision the update read
-- is the last argument, taken off here so that the write's own arguments
-- read as set_field's.
local EXPECTED = table.remove(ARGV)
