/* peer_http_parser.c - http-parser, driven as a client would drive it. */
#include "bench.h"

#include <http_parser.h>

void bench_llhttp_init(void);

static int hp_field(http_parser *p, const char *at, size_t len)
{
	struct cb_state *s = p->data;
	(void)len;
	if (s->nh < 64)
		s->names[s->nh] = at;
	return 0;
}

static int hp_value(http_parser *p, const char *at, size_t len)
{
	struct cb_state *s = p->data;
	(void)len;
	if (s->nh < 64)
		s->values[s->nh++] = at;
	return 0;
}

static int hp_body(http_parser *p, const char *at, size_t len)
{
	struct cb_state *s = p->data;
	(void)at;
	s->got += len;
	return 0;
}

static int hp_done(http_parser *p)
{
	((struct cb_state *)p->data)->done = 1;
	return 0;
}

static http_parser_settings hp_settings;

int run_http_parser(const struct bcase *c, char *buf)
{
	struct cb_state s = {0};
	http_parser p;

	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &s;
	if (http_parser_execute(&p, &hp_settings, buf, c->len) != c->len || p.http_errno)
		return -1;
	if (!c->chunked)
		s.done = 1;
	sink += s.got + s.nh;
	return s.got == c->body_len && s.done ? 0 : -1;
}

void bench_peers_init(void)
{
	bench_llhttp_init();
	http_parser_settings_init(&hp_settings);
	hp_settings.on_header_field = hp_field;
	hp_settings.on_header_value = hp_value;
	hp_settings.on_body = hp_body;
	hp_settings.on_message_complete = hp_done;
}
