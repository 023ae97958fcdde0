-- Give back jobs this consumer holds but will not finish (it is stopping):
-- ARGV[8] = n, then per job lane, sid, id. Each goes to the back of its lane
-- as a fresh entry at once, without counting a delivery (it did not crash)
-- and without using up an attempt. Returns how many were given back.
ensure_groups()
local n, done = tonumber(ARGV[8]), 0
for i = 0, n - 1 do
  local lane, sid, id = tonumber(ARGV[9 + i * 3]), ARGV[10 + i * 3], ARGV[11 + i * 3]
  if owned(lane, sid) then
    retire(lane, sid)
    trim(lane)
    if redis.call('EXISTS', JP .. id) == 1 then
      local dlv = tonumber(redis.call('HGET', JP .. id, 'dlv')) or 1
      redis.call('HSET', JP .. id, 'dlv', math.max(0, dlv - 1))
      ready(id, lane)
      lifecycle('job_waiting', id, lane == 3 and 'JOB_STATE_WAITING' or 'JOB_STATE_PRIORITIZED', 0)
      done = done + 1
    end
  end
end
return done
