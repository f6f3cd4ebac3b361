-- The write of a field update (the floor of jobsess's update.lua on one
-- field): after deadline.lua, the field, only if the job is still at the
-- revision read; 0 if it changed, so the caller reads again.
-- KEYS[1] the job's hash. ARGV[1] the deadline, ARGV[2] the revision
-- read, ARGV[3] the field, ARGV[4] its JSON.
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4], 'rev', tonumber(ARGV[2]) + 1)
return 1
