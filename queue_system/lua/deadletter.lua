-- A job leaves its queue for the dead-letter stream: ARGV[8] lane, [9] sid,
-- [10] id, [11] attempts made, [12] AttemptError bytes (may be empty),
-- [13] FailedJob bytes, [14] reason name, [15] detail, [16] deliveries,
-- [17] retention mode, [18] count, [19] age ms.
-- The FailedJob is written before the entry is acknowledged, in one script:
-- a dead letter is never lost between the two. Returns 1, or 0 when this
-- consumer no longer holds the job.
local lane, sid, id = tonumber(ARGV[8]), ARGV[9], ARGV[10]
if not owned(lane, sid) then return 0 end
if redis.call('EXISTS', K_DEAD) == 0 then
  redis.call('XGROUP', 'CREATE', K_DEAD, 'dlq-svc', '0', 'MKSTREAM')
end
redis.call('XADD', K_DEAD, '*', 'job', id, 'failed', ARGV[13])
retire(lane, sid)
trim(lane)
local att = tonumber(ARGV[11])
local jk = JP .. id
if redis.call('EXISTS', jk) == 1 then
  redis.call('HSET', jk, 'att', att, 'fon', NOW, 'w', ME, 'why', ARGV[14])
  if ARGV[12] ~= '' then redis.call('HSET', jk, 'e:' .. att, ARGV[12]) end
  redis.call('HDEL', jk, 'sid')
end
retain(K_FAILED, id, tonumber(ARGV[17]), tonumber(ARGV[18]), tonumber(ARGV[19]))
redis.call('HINCRBY', K_STATS, 'dead_lettered', 1)
lifecycle('job_failed', id, 'JOB_STATE_FAILED', att, {failedReason = ARGV[15]})
emit('job_dead_lettered', {queue = QUEUE, jobId = id, reason = ARGV[14], detail = ARGV[15],
  attempts = att, deliveries = tonumber(ARGV[16])}, DEAD_TYPE)
return 1
