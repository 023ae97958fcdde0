-- Remove jobs from a sorted set of jobs (ARG[1]: 'delayed', 'completed' or
-- 'failed') whose time is before ARG[2] ms (finish time for completed and
-- failed, add time for delayed), at most ARG[3] (0 = 1000 per call).
-- Returns the removed ids.
local set = ({delayed = KEY.delayed, completed = KEY.completed, failed = KEY.failed})[ARG[1]]
local before, cap = tonumber(ARG[2]), tonumber(ARG[3])
if cap <= 0 then cap = 1000 end
local out = {}
if ARG[1] == 'delayed' then
  for _, id in ipairs(redis.call('ZRANGE', set, 0, -1)) do
    if #out >= cap then break end
    if count(JOB_PREFIX .. id, F.added_at) < before then
      local g = redis.call('HGET', JOB_PREFIX .. id, F.group)
      if g then redis.call('ZREM', GROUP_PREFIX .. g, id) end  -- its place in its group's line
      redis.call('ZREM', set, id)
      redis.call('DEL', JOB_PREFIX .. id)
      out[#out + 1] = id
    end
  end
else
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. before, 'LIMIT', 0, cap)) do
    redis.call('ZREM', set, id)
    redis.call('DEL', JOB_PREFIX .. id)
    out[#out + 1] = id
  end
end
return out
