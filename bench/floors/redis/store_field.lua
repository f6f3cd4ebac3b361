-- The least script of a field write (the floor of jobsess's set_field.lua):
-- the field, only if the job exists.
-- KEYS[1] the job's hash. ARGV[1] the field, ARGV[2] its JSON.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
