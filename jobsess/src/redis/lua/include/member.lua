-- A job's member in its owner's index (its job key): its hash's key after
-- the index's key and a `:` (as OwnerJobs::hash_key builds it).
local function member(hash, set)
  return string.sub(hash, #set + 2)
end
