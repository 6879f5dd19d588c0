package bayes

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store in Redis, for several MX hosts sharing one
// database. A user's data are four hashes and a sorted set under
// <prefix>{<user>}: ...:ts and ...:th (token -> spam / ham count), ...:seen
// (message id -> 's' or 'h'), ...:meta (nspam, nham) and ...:atime (token
// scored by last-learned time, for Expire). The braces are a Redis Cluster
// hash tag, keeping one user's keys in one slot so that the scripts can
// update them atomically. It implements Expirer.
type RedisStore struct {
	c      redis.UniversalClient
	prefix string
}

// DefaultRedisPrefix is the key prefix when none is given.
const DefaultRedisPrefix = "gomilter:bayes:"

// NewRedisStore uses client (the caller closes it)
// with keys under prefix (DefaultRedisPrefix when empty).
func NewRedisStore(client redis.UniversalClient, prefix string) *RedisStore {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &RedisStore{c: client, prefix: prefix}
}

func (r *RedisStore) keys(user string) []string {
	base := r.prefix + "{" + url.QueryEscape(user) + "}:"
	return []string{base + "seen", base + "ts", base + "th", base + "meta", base + "atime"}
}

// learnScript moves or adds one message's counts atomically. KEYS: seen,
// ts, th, meta, atime. ARGV: message id, class ('s' or 'h' to learn, empty
// to forget), the current Unix time, then the tokens.
var learnScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
local want = ARGV[2]
if want ~= '' and old == want then return 0 end
if want == '' and not old then return 0 end
local function apply(cls, d)
  local tk, f = KEYS[3], 'nham'
  if cls == 's' then tk, f = KEYS[2], 'nspam' end
  if redis.call('HINCRBY', KEYS[4], f, d) < 0 then redis.call('HSET', KEYS[4], f, 0) end
  for i = 4, #ARGV do
    if redis.call('HINCRBY', tk, ARGV[i], d) <= 0 then
      redis.call('HDEL', tk, ARGV[i])
      if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 and redis.call('HEXISTS', KEYS[3], ARGV[i]) == 0 then
        redis.call('ZREM', KEYS[5], ARGV[i])
      end
    end
  end
end
if old then apply(old, -1) end
if want == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
apply(want, 1)
redis.call('HSET', KEYS[1], ARGV[1], want)
for i = 4, #ARGV do redis.call('ZADD', KEYS[5], ARGV[3], ARGV[i]) end
return 1
`)

// expireScript drops the least recently learned tokens. KEYS: ts, th,
// atime. ARGV: max tokens, tokens to keep.
var expireScript = redis.NewScript(`
local n = redis.call('ZCARD', KEYS[3])
local max, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
if n <= max then return 0 end
local victims = redis.call('ZRANGE', KEYS[3], 0, n - keep - 1)
for _, t in ipairs(victims) do
  redis.call('HDEL', KEYS[1], t)
  redis.call('HDEL', KEYS[2], t)
end
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, n - keep - 1)
return #victims
`)

// Expire implements Expirer. Tokens learned before this version of the
// store kept learned times are not in the time index and never expire.
func (r *RedisStore) Expire(ctx context.Context, user string, maxTokens int) (int, error) {
	if maxTokens <= 0 {
		return 0, nil
	}
	k := r.keys(user)
	return expireScript.Run(ctx, r.c, []string{k[1], k[2], k[4]}, maxTokens, maxTokens*3/4).Int()
}

func (r *RedisStore) run(ctx context.Context, user, msgID, class string, toks []Hash, atime uint32) (bool, error) {
	args := make([]any, 0, len(toks)+3)
	args = append(args, msgID, class, atime)
	for _, t := range toks {
		args = append(args, string(t[:]))
	}
	n, err := learnScript.Run(ctx, r.c, r.keys(user), args...).Int()
	return n == 1, err
}

// Learn implements Store.
func (r *RedisStore) Learn(ctx context.Context, user, msgID string, toks []Hash, spam bool, atime uint32) (bool, error) {
	return r.run(ctx, user, msgID, string(classOf(spam)), toks, orNow(atime))
}

// Forget implements Store.
func (r *RedisStore) Forget(ctx context.Context, user, msgID string, toks []Hash) (bool, error) {
	return r.run(ctx, user, msgID, "", toks, nowUnix())
}

// Totals implements Store.
func (r *RedisStore) Totals(ctx context.Context, user string) (uint64, uint64, error) {
	v, err := r.c.HMGet(ctx, r.keys(user)[3], "nspam", "nham").Result()
	if err != nil {
		return 0, 0, err
	}
	return parseCount(v[0]), parseCount(v[1]), nil
}

// Tokens implements Store.
func (r *RedisStore) Tokens(ctx context.Context, user string, toks []Hash) ([]Counts, error) {
	out := make([]Counts, len(toks))
	if len(toks) == 0 {
		return out, nil
	}
	fields := make([]string, len(toks))
	for i, t := range toks {
		fields[i] = string(t[:])
	}
	k := r.keys(user)
	pipe := r.c.Pipeline()
	sp := pipe.HMGet(ctx, k[1], fields...)
	hm := pipe.HMGet(ctx, k[2], fields...)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	for i := range toks {
		out[i] = Counts{Spam: uint32(parseCount(sp.Val()[i])), Ham: uint32(parseCount(hm.Val()[i]))}
	}
	return out, nil
}

// Close implements Store; the client belongs to the caller.
func (r *RedisStore) Close() error { return nil }

// DeleteUser removes every key of user's database.
func (r *RedisStore) DeleteUser(ctx context.Context, user string) error {
	return r.c.Del(ctx, r.keys(user)...).Err()
}

func parseCount(v any) uint64 {
	s, ok := v.(string)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}
