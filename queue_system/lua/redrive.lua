-- An operator puts finished jobs back on the queue (QueueService.RetryJobs,
-- BullMQ's retryJobs): ARG[1] 'failed' or 'completed', [2] limit (0 = 1000),
-- then job ids (none = oldest first). Each starts a new series of attempts
-- with its history kept (start_series) and emits job_redriven. A job of a
-- group joins the end of its group's line (or takes the free slot).
-- Returns the redriven ids.
local set = ARG[1] == 'completed' and KEY.completed or KEY.failed
local cap = tonumber(ARG[2])
if cap <= 0 then cap = 1000 end
local ids = {}
if #ARG > 2 then
  for i = 3, #ARG do ids[#ids + 1] = ARG[i] end
else
  ids = redis.call('ZRANGE', set, 0, cap - 1)
end
ensure_groups()
local out = {}
for _, id in ipairs(ids) do
  if #out >= cap then break end
  if redis.call('ZREM', set, id) == 1 then
    local jk = JOB_PREFIX .. id
    local lane = tonumber(redis.call('HGET', jk, F.lane))
    if lane then
      start_series(jk)
      local g = redis.call('HGET', jk, F.group)
      if g then
        join_group(jk, g)
        group_admit(id, g, lane)
      else
        make_ready(id, lane)
      end
      lifecycle('job_redriven', id, READY_STATE[lane], count(jk, F.attempts_made) + 1)
      out[#out + 1] = id
    end
  end
end
return out
