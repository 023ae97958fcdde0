-- Move delayed jobs that are due into their lanes (at most ARG[1] per call),
-- in due order and, within one millisecond, in the order they were delayed.
-- A job of a group goes to its lane only when its group's slot is free, else
-- to its place in the group's line (common.lua, "Groups").
-- Returns {moved, ms until the next delayed job is due or -1}.
local due = redis.call('ZRANGEBYSCORE', KEY.delayed, '-inf', NOW, 'WITHSCORES', 'LIMIT', 0, tonumber(ARG[1]))
local jobs = {}
for i = 1, #due, 2 do
  local h = redis.call('HMGET', JOB_PREFIX .. due[i], F.lane, F.order, F.group)
  jobs[#jobs + 1] = {id = due[i], at = tonumber(due[i + 1]), lane = tonumber(h[1]), order = tonumber(h[2]) or 0,
    group = h[3]}
end
table.sort(jobs, function(a, b)
  if a.at ~= b.at then return a.at < b.at end
  return a.order < b.order
end)
if #jobs > 0 then ensure_groups() end
for _, job in ipairs(jobs) do
  redis.call('ZREM', KEY.delayed, job.id)
  if job.lane then
    redis.call('HDEL', JOB_PREFIX .. job.id, F.due_at, F.order)
    if job.group then group_admit(job.id, job.group, job.lane) else make_ready(job.id, job.lane) end
    lifecycle('job_waiting', job.id, READY_STATE[job.lane], 0)
  end
end
local nxt = redis.call('ZRANGE', KEY.delayed, 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then wait = math.max(0, tonumber(nxt[2]) - NOW) end
return {#jobs, wait}
