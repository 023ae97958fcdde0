-- Put a dead-lettered job back on its queue with its id and history, as a
-- new series of attempts, whatever its retention did with it: ARG[1] id,
-- [2] envelope, [3] lane, [4] attempts made, [5] deliveries, [6] delay ms,
-- [7] group key ('' for none), then field, value pairs of its history
-- (error:<n>, redelivery:<n>) to restore when its record is gone. A job of a
-- group joins the end of its group's line.
-- A job still kept as failed starts a new series in place; a job whose
-- record was removed is recreated from the dead letter. Returns 1 when put
-- back, 0 when the id is in use by a job that has not failed (it was added
-- again, or already put back): nothing changes then.
local id, lane, delay = ARG[1], tonumber(ARG[3]), tonumber(ARG[6])
local jk = JOB_PREFIX .. id
if redis.call('EXISTS', jk) == 1 then
  if redis.call('ZREM', KEY.failed, id) == 0 then return 0 end
  lane = tonumber(redis.call('HGET', jk, F.lane)) or lane
else
  redis.call('HSET', jk, F.envelope, ARG[2], F.lane, lane, F.added_at, NOW,
    F.attempts_made, tonumber(ARG[4]), F.deliveries, tonumber(ARG[5]))
  if ARG[7] ~= '' then redis.call('HSET', jk, F.group, ARG[7]) end
  for i = 8, #ARG - 1, 2 do redis.call('HSET', jk, ARG[i], ARG[i + 1]) end
end
start_series(jk)
local g = redis.call('HGET', jk, F.group)
if g then join_group(jk, g) end
make_waiting(id, lane, delay, g)
lifecycle('job_redriven', id, waiting_state(lane, delay > 0), count(jk, F.attempts_made) + 1)
return 1
