-- One consistent read of a paper account, for an order's step to compute from (paper_exchange.py).
-- Opens the venue's wallet with the starting balance on first use, so that balance is fixed then.
-- KEYS: account record, fences, wallet[, position, order]
-- ARGV: job id ('' for none), then the starting balance as currency, amount pairs
-- Returns {version, the job's highest fencing token, wallet pairs[, position pairs, order pairs]}.
if #ARGV > 1 and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('HSET', KEYS[3], unpack(ARGV, 2))
end
local highest = '0'
if ARGV[1] ~= '' then
  highest = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
end
local reply = {redis.call('HGET', KEYS[1], VERSION_FIELD) or '0', highest, redis.call('HGETALL', KEYS[3])}
if #KEYS == 5 then
  reply[4] = redis.call('HGETALL', KEYS[4])
  reply[5] = redis.call('HGETALL', KEYS[5])
end
return reply
