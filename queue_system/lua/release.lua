-- Give back jobs this consumer holds but will not finish (it is stopping):
-- ARG[1] = n, then per job lane, entry id, id. Each goes to the back of its
-- lane as a fresh entry at once, without counting a delivery (it did not
-- crash) and without using up an attempt; a job of a group keeps its group's
-- slot, so it still runs before the rest of its group. Returns how many were
-- given back.
ensure_groups()
local n, done = tonumber(ARG[1]), 0
for i = 0, n - 1 do
  local lane, entry_id, id = tonumber(ARG[2 + i * 3]), ARG[3 + i * 3], ARG[4 + i * 3]
  if owned(lane, entry_id) then
    retire(lane, entry_id)
    trim(lane)
    local jk = JOB_PREFIX .. id
    if redis.call('EXISTS', jk) == 1 then
      redis.call('HSET', jk, F.deliveries, math.max(0, count(jk, F.deliveries) - 1),
        F.attempt_deliveries, math.max(0, count(jk, F.attempt_deliveries) - 1))
      make_ready(id, lane)
      lifecycle('job_waiting', id, READY_STATE[lane], 0)
      done = done + 1
    end
  end
end
return done
