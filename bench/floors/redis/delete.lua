-- The least script of a removal (the floor of jobsess's remove.lua).
-- KEYS[1] the job's hash, KEYS[2] the owner's index. ARGV[1] the member.
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
