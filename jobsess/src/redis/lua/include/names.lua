-- Names shared with Rust: each is also a const in redis/scripts.rs, and a
-- unit test there reads this file and checks that both agree.
-- The hash field that marks a job's hash and holds its revision.
local MARKER = '\0jobsess'
-- The hash field of a watched job: until when (ms) it is watched.
local WATCHED = '\0watched'
-- The member that holds a versioned job's version (jobsess::VERSION_KEY).
local VERSION_KEY = 'jobsess:version'
