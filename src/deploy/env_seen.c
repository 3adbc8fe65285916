/*
 * env_seen: see env_seen.h.
 */
#include "env_seen.h"

#include <string.h>

static int has(const struct strvec *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

/* "UNIT\nENV": a pair as env_seen keeps it. */
static void pair_key(struct buf *out, const char *unit, const char *environment)
{
	buf_printf(out, "%s\n%s", unit, environment);
}

void env_seen_add(struct env_seen *s, const char *unit, const char *environment,
		  const struct mask *values)
{
	for (size_t i = 0; i < values->n; i++)
		mask_add(&s->values, values->items[i].data, values->items[i].len);
	struct buf key = BUF_INIT;
	pair_key(&key, unit, environment);
	if (!has(&s->pairs, key.data))
		strvec_push(&s->pairs, key.data);
	buf_free(&key);
}

void env_seen_free(struct env_seen *s)
{
	mask_free(&s->values);
	strvec_clear(&s->pairs);
}

int env_seen_mask(const struct env_seen *s, const char *unit, const char *environment,
		  struct mask *m)
{
	struct buf key = BUF_INIT;
	pair_key(&key, unit, environment);
	int seen = s && has(&s->pairs, key.data);
	buf_free(&key);
	for (size_t i = 0; seen && i < s->values.n; i++)
		mask_add(m, s->values.items[i].data, s->values.items[i].len);
	return seen;
}
