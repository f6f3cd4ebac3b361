-- Every write: ARGV[1] is the server time (ms) after which its client has
-- given up on it, or empty; the write's own arguments start at ARGV[2].
-- A write that arrives later is refused, so it never lands after its
-- caller got an error. Needs: now.
if ARGV[1] ~= '' and now() > tonumber(ARGV[1]) then
  return redis.error_reply('LATE jobsess: this write arrived after its client had given up on it')
end
