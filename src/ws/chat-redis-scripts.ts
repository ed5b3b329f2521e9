/**
 * What the ws-chat servers of one group keep in Redis (lesson 07), and the Lua scripts that
 * change it. Redis runs a script alone, start to end, so each of these is one step that no
 * other server can see half done: "add me to the room, and if I am the first bob there, tell
 * everyone" can never announce bob twice, even when two servers do it at the same instant.
 *
 * Keys, all under one prefix (`netlab:ws-chat:` unless a test picks another):
 *
 *   servers          ZSET  server id → until when it counts as alive (ms, Redis's clock)
 *   here:<server>    HASH  "<room key>\n<token>" → that user's connections in that room there
 *   users:<server>   HASH  token → that user's connections on that server
 *   owners           HASH  name key → token: who holds a name, across every server
 *   names            HASH  token → the name as its user writes it ("Alice")
 *   claims           HASH  token → the name key it holds ("alice"), to free it by token
 *   history:<room>   LIST  the room's last messages, oldest first: {"seq":N,"line":{…}}
 *   seq:<room>       the room's last message number: every server and every history agree on it
 *   guests           a counter for guest-N names
 *   events           the pub/sub channel every server publishes to and reads from
 *
 * Each BEAT says how long its server counts as alive: its own --redis-timeout from now, so
 * servers with different timeouts judge each other by the sender's. One whose time is up is
 * *dead*: the next BEAT of any server removes its `here` and `users`, tells its rooms who left
 * with it, and frees the names nobody else holds. Whichever BEAT gets there first does it, once.
 *
 * The scripts find their keys from the prefix (ARGV[1]) rather than from KEYS, which is fine
 * on one Redis and would not be on a Redis Cluster (keys on different shards).
 */

/** Shared by every script: the live servers, and who is in a room on any of them. */
const PRELUDE = `
local p = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function live()
  return redis.call('ZRANGEBYSCORE', p .. 'servers', now_ms(), '+inf')
end
-- The tokens in room \`room\` on the servers \`servers\`, as a set.
local function in_room(servers, room)
  local tokens, n = {}, 0
  local prefix = room .. '\\n'
  for _, s in ipairs(servers) do
    local fields = redis.call('HGETALL', p .. 'here:' .. s)
    for i = 1, #fields, 2 do
      local f = fields[i]
      if string.sub(f, 1, #prefix) == prefix and tonumber(fields[i + 1]) > 0 then
        local token = string.sub(f, #prefix + 1)
        if not tokens[token] then tokens[token] = true; n = n + 1 end
      end
    end
  end
  return tokens, n
end
-- Whether \`token\` has a connection on any of \`servers\` but \`except\`.
local function held(servers, token, except)
  for _, s in ipairs(servers) do
    if s ~= except and redis.call('HEXISTS', p .. 'users:' .. s, token) == 1 then return true end
  end
  return false
end
local function free_name(token)
  local key = redis.call('HGET', p .. 'claims', token)
  if key and redis.call('HGET', p .. 'owners', key) == token then redis.call('HDEL', p .. 'owners', key) end
  redis.call('HDEL', p .. 'names', token)
  redis.call('HDEL', p .. 'claims', token)
end
`;

function script(body: string): string {
  return PRELUDE + body;
}

/**
 * CLAIM(prefix, server, token, name key, name) → the name the connection's user goes by, or
 * nil when another user holds `name`. One more connection of `token` on `server`: under the
 * name the user holds already (another tab renamed it meanwhile), or else under `name`.
 */
export const CLAIM = script(`
local server, token, key, name = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local current = redis.call('HGET', p .. 'names', token)
if current and redis.call('HEXISTS', p .. 'claims', token) == 1 then
  redis.call('HINCRBY', p .. 'users:' .. server, token, 1)
  return current
end
local owner = redis.call('HGET', p .. 'owners', key)
if owner and owner ~= token then return nil end
redis.call('HSET', p .. 'owners', key, token)
redis.call('HSET', p .. 'names', token, name)
redis.call('HSET', p .. 'claims', token, key)
redis.call('HINCRBY', p .. 'users:' .. server, token, 1)
return name
`);

/**
 * RELEASE(prefix, server, token) → 1 when the user's name is free now.
 * One connection of `token` on `server` fewer; its name goes with its last connection anywhere.
 */
export const RELEASE = script(`
local server, token = ARGV[2], ARGV[3]
if redis.call('HINCRBY', p .. 'users:' .. server, token, -1) > 0 then return 0 end
redis.call('HDEL', p .. 'users:' .. server, token)
if held(live(), token, server) then return 0 end
free_name(token)
return 1
`);

/**
 * ENTER(prefix, server, room key, token, event) → how many users are in the room now.
 * One more connection of `token` in the room; when it is the user's first there on any
 * server, the join `event` (JSON) is published with `online` set to that count.
 */
export const ENTER = script(`
local server, room, token, event = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local servers = live()
local before = in_room(servers, room)
redis.call('HINCRBY', p .. 'here:' .. server, room .. '\\n' .. token, 1)
local _, online = in_room(servers, room)
if not before[token] then
  local e = cjson.decode(event)
  e.online = online
  redis.call('PUBLISH', p .. 'events', cjson.encode(e))
end
return online
`);

/**
 * LEAVE(prefix, server, room key, token, event) → how many users are in the room now.
 * One connection of `token` fewer in the room; when it was the user's last there on any
 * server, the leave `event` is published with `online` set.
 */
export const LEAVE = script(`
local server, room, token, event = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local field = room .. '\\n' .. token
if redis.call('HINCRBY', p .. 'here:' .. server, field, -1) <= 0 then redis.call('HDEL', p .. 'here:' .. server, field) end
local tokens, online = in_room(live(), room)
if not tokens[token] then
  local e = cjson.decode(event)
  e.online = online
  redis.call('PUBLISH', p .. 'events', cjson.encode(e))
end
return online
`);

/** USERS(prefix, room key) → the names of everyone in the room, on any live server. */
export const USERS = script(`
local room = ARGV[2]
local tokens = in_room(live(), room)
local names = {}
for token in pairs(tokens) do
  local name = redis.call('HGET', p .. 'names', token)
  if name then table.insert(names, name) end
end
return names
`);

/**
 * SAY(prefix, room key, line, event, history length) → the line's number in the room.
 * Numbers the line, keeps it in the room's history and publishes `event` (with `seq` added) in
 * the same step, so that the history and what every server delivers are in one order, Redis's.
 * Needs no prelude: it is the script every message runs.
 */
export const SAY = `
local p, room, line, event, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = p .. 'history:' .. room
local seq = redis.call('INCR', p .. 'seq:' .. room)
redis.call('RPUSH', key, '{"seq":' .. seq .. ',"line":' .. line .. '}')
redis.call('LTRIM', key, -keep, -1)
redis.call('EXPIRE', key, 86400)
redis.call('EXPIRE', p .. 'seq:' .. room, 86400)
redis.call('PUBLISH', p .. 'events', '{"seq":' .. seq .. ',' .. string.sub(event, 2))
return seq
`;

/**
 * RENAME(prefix, token, new key, new name, event) → 1, or 0 when the name is taken.
 * Moves the user's name and publishes `event` with `rooms` set to every room it is in.
 */
export const RENAME = script(`
local token, key, name, event = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local owner = redis.call('HGET', p .. 'owners', key)
if owner and owner ~= token then return 0 end
local old = redis.call('HGET', p .. 'claims', token)
if old and redis.call('HGET', p .. 'owners', old) == token then redis.call('HDEL', p .. 'owners', old) end
redis.call('HSET', p .. 'owners', key, token)
redis.call('HSET', p .. 'names', token, name)
redis.call('HSET', p .. 'claims', token, key)
local rooms, seen = {}, {}
local suffix = '\\n' .. token
for _, s in ipairs(live()) do
  local fields = redis.call('HGETALL', p .. 'here:' .. s)
  for i = 1, #fields, 2 do
    local f = fields[i]
    if string.sub(f, -#suffix) == suffix then
      local room = string.sub(f, 1, #f - #suffix)
      if not seen[room] then seen[room] = true; table.insert(rooms, room) end
    end
  end
end
local e = cjson.decode(event)
-- cjson writes an empty table as {}, not []: no rooms is said by leaving the field out.
e.rooms = #rooms > 0 and rooms or nil
redis.call('PUBLISH', p .. 'events', cjson.encode(e))
return 1
`);

/**
 * BEAT(prefix, server, timeout) → [known, cleared]: `known` is 0 when Redis did not know
 * `server` (it restarted empty, or the others took this server for dead), so the server must
 * RESTORE its part; `cleared` is how many dead servers this call cleared.
 * Says `server` is alive, then clears every server that has not said so for `timeout` ms:
 * a leave event for each user that was in a room only through it, and its names freed.
 */
export const BEAT = script(`
local server, timeout = ARGV[2], tonumber(ARGV[3])
local t = now_ms()
local known = redis.call('ZSCORE', p .. 'servers', server) and 1 or 0
redis.call('ZADD', p .. 'servers', t + timeout, server)
local dead = redis.call('ZRANGEBYSCORE', p .. 'servers', '-inf', '(' .. t)
if #dead == 0 then return { known, 0 } end
for _, d in ipairs(dead) do redis.call('ZREM', p .. 'servers', d) end
local servers = live()
for _, d in ipairs(dead) do
  local fields = redis.call('HGETALL', p .. 'here:' .. d)
  redis.call('DEL', p .. 'here:' .. d)
  for i = 1, #fields, 2 do
    local f = fields[i]
    local cut = string.find(f, '\\n', 1, true)
    local room, token = string.sub(f, 1, cut - 1), string.sub(f, cut + 1)
    local tokens, online = in_room(servers, room)
    local name = redis.call('HGET', p .. 'names', token)
    if not tokens[token] and name then
      redis.call('PUBLISH', p .. 'events', cjson.encode({ kind = 'presence', server = d, room = room,
        event = 'leave', name = name, token = token, online = online, why = 'their server stopped answering' }))
    end
  end
  local users = redis.call('HKEYS', p .. 'users:' .. d)
  redis.call('DEL', p .. 'users:' .. d)
  for _, token in ipairs(users) do
    if not held(servers, token, nil) then free_name(token) end
  end
end
return { known, #dead }
`);

/**
 * RESTORE(prefix, server, timeout, users, here) → how many of this server's names another user
 * took meanwhile. After Redis came back (empty, if it restarted without its data), writes this
 * server's part again: `users` is JSON [[token, name key, name, connections]], `here` is JSON
 * [[field, connections]].
 */
export const RESTORE = script(`
local server, timeout, users, here = ARGV[2], tonumber(ARGV[3]), cjson.decode(ARGV[4]), cjson.decode(ARGV[5])
redis.call('ZADD', p .. 'servers', now_ms() + timeout, server)
-- Users that left while Redis was away (it kept its data): their names are free now.
local before = redis.call('HKEYS', p .. 'users:' .. server)
redis.call('DEL', p .. 'users:' .. server, p .. 'here:' .. server)
local still = {}
for _, u in ipairs(users) do still[u[1]] = true end
local servers = live()
for _, token in ipairs(before) do
  if not still[token] and not held(servers, token, server) then free_name(token) end
end
local lost = 0
for _, u in ipairs(users) do
  local token, key, name, n = u[1], u[2], u[3], u[4]
  local owner = redis.call('HGET', p .. 'owners', key)
  if owner and owner ~= token then lost = lost + 1 else
    redis.call('HSET', p .. 'owners', key, token)
    redis.call('HSET', p .. 'names', token, name)
    redis.call('HSET', p .. 'claims', token, key)
  end
  redis.call('HSET', p .. 'users:' .. server, token, n)
end
for _, h in ipairs(here) do redis.call('HSET', p .. 'here:' .. server, h[1], h[2]) end
return lost
`);

/** LEAVE_GROUP(prefix, server): a clean stop, so others need not wait for the timeout. */
export const LEAVE_GROUP = script(`
local server = ARGV[2]
redis.call('ZREM', p .. 'servers', server)
redis.call('DEL', p .. 'here:' .. server, p .. 'users:' .. server)
return 1
`);

/** WHO(prefix, name key) → [token, name] of whoever holds the name, or nil. */
export const WHO = script(`
local token = redis.call('HGET', p .. 'owners', ARGV[2])
if not token then return nil end
return { token, redis.call('HGET', p .. 'names', token) or '' }
`);
