-- A field write's whole work (the floor of jobsess's set_field.lua, less
-- the watch mark and the alias removal): after deadline.lua, the field
-- and the revision, only if the job exists.
-- KEYS[1] the job's hash. ARGV[1] the deadline, ARGV[2] the field,
-- ARGV[3] its JSON.
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], 'rev', (tonumber(rev) or 0) + 1)
return 1
