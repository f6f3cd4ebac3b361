-- A field write over whatever revision the job is at (store_field).
local EXPECTED = false
