-- Remove jobs from a sorted set of jobs (ARGV[8]: 'delayed', 'completed' or
-- 'failed') whose time is before ARGV[9] ms (finish time for completed and
-- failed, add time for delayed), at most ARGV[10] (0 = 1000 per call).
-- Returns the removed ids.
local set = ({delayed = K_DELAYED, completed = K_COMPLETED, failed = K_FAILED})[ARGV[8]]
local before, cap = tonumber(ARGV[9]), tonumber(ARGV[10])
if cap <= 0 then cap = 1000 end
local out = {}
if ARGV[8] == 'delayed' then
  for _, id in ipairs(redis.call('ZRANGE', set, 0, -1)) do
    if #out >= cap then break end
    local ts = tonumber(redis.call('HGET', JP .. id, 'ts')) or 0
    if ts < before then
      redis.call('ZREM', set, id)
      redis.call('DEL', JP .. id)
      out[#out + 1] = id
    end
  end
else
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. before, 'LIMIT', 0, cap)) do
    redis.call('ZREM', set, id)
    redis.call('DEL', JP .. id)
    out[#out + 1] = id
  end
end
return out
