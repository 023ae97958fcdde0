-- An order's one atomic step on a paper account (paper_exchange.py): fence, exactly-once, then
-- the writes that Python computed from a snapshot, applied only if that snapshot is still current.
-- Amounts are decimal strings computed in Python: Lua's numbers are doubles and would round them.
-- KEYS: account record, fences, wallet, position, order
-- ARGV: job id, fencing token, the account version the order was computed from,
--       '1' if the order is refused, the number of wallet and of position arguments,
--       then wallet pairs, position pairs and the order's pairs
-- Returns {'fenced', highest token} | {'exists', the first order's pairs} | {'conflict'} |
--         {'refused'} | {'placed'}.
local token = tonumber(ARGV[2])
local highest = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if token < highest then
  return {'fenced', tostring(highest)}
end
if token > highest then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
if redis.call('EXISTS', KEYS[5]) == 1 then
  return {'exists', redis.call('HGETALL', KEYS[5])}
end
local version = tonumber(redis.call('HGET', KEYS[1], VERSION_FIELD) or '0')
if version ~= tonumber(ARGV[3]) then
  return {'conflict'}
end
if ARGV[4] == '1' then
  return {'refused'}
end
local wallet_args, position_args = tonumber(ARGV[5]), tonumber(ARGV[6])
local at = 7
if wallet_args > 0 then
  redis.call('HSET', KEYS[3], unpack(ARGV, at, at + wallet_args - 1))
end
at = at + wallet_args
if position_args > 0 then
  redis.call('HSET', KEYS[4], unpack(ARGV, at, at + position_args - 1))
end
at = at + position_args
redis.call('HSET', KEYS[5], unpack(ARGV, at))
redis.call('HSET', KEYS[1], VERSION_FIELD, version + 1)
return {'placed'}
