/* peer_llhttp.c - llhttp, driven as a client would drive it. */
#include "bench.h"

#include <llhttp.h>

static int ll_field(llhttp_t *p, const char *at, size_t len)
{
	struct cb_state *s = p->data;
	(void)len;
	if (s->nh < 64)
		s->names[s->nh] = at;
	return 0;
}

static int ll_value(llhttp_t *p, const char *at, size_t len)
{
	struct cb_state *s = p->data;
	(void)len;
	if (s->nh < 64)
		s->values[s->nh++] = at;
	return 0;
}

static int ll_body(llhttp_t *p, const char *at, size_t len)
{
	struct cb_state *s = p->data;
	(void)at;
	s->got += len;
	return 0;
}

static int ll_done(llhttp_t *p)
{
	((struct cb_state *)p->data)->done = 1;
	return 0;
}

static llhttp_settings_t ll_settings;

int run_llhttp(const struct bcase *c, char *buf)
{
	struct cb_state s = {0};
	llhttp_t p;

	llhttp_init(&p, HTTP_RESPONSE, &ll_settings);
	p.data = &s;
	if (llhttp_execute(&p, buf, c->len) != HPE_OK)
		return -1;
	if (!c->chunked)
		s.done = 1; /* ends only at the next message or EOF */
	sink += s.got + s.nh;
	return s.got == c->body_len && s.done ? 0 : -1;
}

void bench_llhttp_init(void);

void bench_llhttp_init(void)
{
	llhttp_settings_init(&ll_settings);
	ll_settings.on_header_field = ll_field;
	ll_settings.on_header_value = ll_value;
	ll_settings.on_body = ll_body;
	ll_settings.on_message_complete = ll_done;
}
