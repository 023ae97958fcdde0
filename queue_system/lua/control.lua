-- Pause (ARGV[8] = 'pause') or resume ('resume') the queue for every worker;
-- ARGV[9] = request id. Workers check the flag on every fetch.
if ARGV[8] == 'pause' then
  redis.call('SET', K_PAUSED, NOW)
else
  redis.call('DEL', K_PAUSED)
end
emit('queue_' .. ARGV[8] .. 'd', {queue = QUEUE, requestId = ARGV[9]}, CONTROL_TYPE)
return 1
