-- A removal's whole work (the floor of jobsess's remove.lua, less the
-- watch mark): after deadline.lua, the index entry and the hash.
-- KEYS[1] the job's hash, KEYS[2] the owner's index.
-- ARGV[1] the deadline, ARGV[2] the index member.
redis.call('ZREM', KEYS[2], ARGV[2])
return redis.call('DEL', KEYS[1])
