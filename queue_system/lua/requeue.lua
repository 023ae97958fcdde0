-- Run finished jobs again (BullMQ's retryJobs): ARGV[8] 'failed' or
-- 'completed', [9] limit (0 = 1000), then job ids (none = oldest first).
-- Attempts start over; the error history of the earlier run is dropped here
-- (it stays in the dead-letter stream). Returns the requeued ids.
local set = ARGV[8] == 'completed' and K_COMPLETED or K_FAILED
local cap = tonumber(ARGV[9])
if cap <= 0 then cap = 1000 end
local ids = {}
if #ARGV > 9 then
  for i = 10, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', set, 0, cap - 1)
end
ensure_groups()
local out = {}
for _, id in ipairs(ids) do
  if #out >= cap then break end
  if redis.call('ZREM', set, id) == 1 then
    local jk = JP .. id
    local lane = tonumber(redis.call('HGET', jk, 'lane'))
    if lane then
      local fields = redis.call('HKEYS', jk)
      for _, f in ipairs(fields) do
        if f == 'fon' or f == 'why' or f == 'res' or f == 'prog' or f == 'att' or f == 'dlv'
          or string.sub(f, 1, 2) == 'e:' or string.sub(f, 1, 2) == 'r:' then
          redis.call('HDEL', jk, f)
        end
      end
      ready(id, lane)
      lifecycle('job_waiting', id, lane == 3 and 'JOB_STATE_WAITING' or 'JOB_STATE_PRIORITIZED', 0)
      out[#out + 1] = id
    end
  end
end
return out
