/*
 * msngw-emu.c - an MSN Messenger HTTP gateway emulator for the tests, with a
 * scripted fake notification server and switchboard behind it. Independent
 * of the library on purpose. Strict where clients have been sloppy: session
 * ids major.minor with a new minor on every response (a stale id is 400),
 * 400 for a concurrent request on a session, an unknown or closed session,
 * or anything but POST /gateway/gateway.dll.
 *
 *   msngw-emu [--log FILE] [--gwip-other] [--split] [--big] [--delay MS]
 *             [--drop] [--http10] [--continue] [--no-session] [--bad-msnp]
 *             [--slam-after N]
 *
 * Listens on 127.0.0.1 and [::1] on one port, printed as "port N".
 * --gwip-other answers GW-IP with the other listener's address (the next
 * request must go there); --split cuts bodies in the middle of commands and
 * payloads; --big adds a 40,000-byte payload after login; --delay holds each
 * response back; --drop closes the connection after each response;
 * --http10 answers HTTP/1.0 and closes; --continue sends 100 Continue first.
 * --no-session answers 200 with the commands but no X-MSN-Messenger field (a
 * web page or a proxy in the way); --bad-msnp answers the open with a line
 * that is not MSNP; --slam-after N closes every connection accepted after
 * N responses as soon as it is accepted (a gateway gone; with --drop every
 * request after the Nth needs a new connection).
 * --log FILE gets a line per request: session, action, body length and
 * concurrent=1 when it came while the session had a request outstanding,
 * and before it a line with its User-Agent and X-Test values.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

#define MAXC 256
#define MAXS 64

struct session {
	unsigned major, minor;
	int used, closed, busy, sb;
	char *async;      /* commands for the next response */
	size_t async_len;
	char *carry;      /* bytes held back by --split */
	size_t carry_len;
};

struct conn {
	int fd, v6;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	long long hold_until;
	int close_after;
	struct session *busy_with; /* the session whose response is held */
};

static struct conn *conns[MAXC];
static struct session sessions[MAXS];
static unsigned next_major = 954547325;
static int gwip_other, split, big, delay_ms, drop, http10, cont, no_session, bad_msnp;
static int slam_after = -1, answered;
static FILE *logf;

static void append(char **buf, size_t *len, const void *p, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	if (!*buf)
		abort();
	memcpy(*buf + *len, p, n);
	*len += n;
}

static void appendf(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char **buf, size_t *len, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	append(buf, len, tmp, (size_t)n);
}

/* Copies the value of query parameter name into val. */
static int param(const char *q, const char *name, char *val, size_t size)
{
	size_t nl = strlen(name);
	const char *p = q;

	while (p && *p) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t n = strcspn(p + nl + 1, "&");
			if (n >= size)
				n = size - 1;
			memcpy(val, p + nl + 1, n);
			val[n] = '\0';
			return 1;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

/* Payload commands the client sends (the last argument is the length). */
static int out_payload(const char *name)
{
	static const char *const t[] = {"MSG", "QRY", "UUX", "ADL", "RML", "FQY", "UUN",
	                                "UUM", "PUT", "DEL", "SDG", "SDC", "PGD", NULL};
	int i;
	for (i = 0; t[i]; i++)
		if (strcmp(name, t[i]) == 0)
			return 1;
	return 0;
}

/* The fake NS or SB: answers the commands in body, queues asynchronous ones.
 * Returns 1 when the session ends (OUT). */
static int serve(struct session *s, const char *body, size_t len, char **ans, size_t *ans_len)
{
	size_t off = 0;
	int out = 0;

	while (off < len) {
		const char *lf = memchr(body + off, '\n', len - off);
		char line[1024], name[16] = "", trid[32] = "", a2[256] = "", a3[256] = "";
		size_t ll, payload = 0;
		const char *pl;
		if (!lf)
			break;
		ll = (size_t)(lf - (body + off));
		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, body + off, ll);
		line[ll] = '\0';
		if (ll && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		off = (size_t)(lf - body) + 1;
		sscanf(line, "%15s %31s %255s %255s", name, trid, a2, a3);
		if (out_payload(name)) {
			const char *last = strrchr(line, ' ');
			payload = last ? strtoul(last + 1, NULL, 10) : 0;
		}
		pl = body + off;
		if (payload > len - off)
			payload = len - off;
		off += payload;
		if (strcmp(name, "VER") == 0) {
			appendf(ans, ans_len, "VER %s MSNP12 CVR0\r\n", trid);
		} else if (strcmp(name, "CVR") == 0) {
			appendf(ans, ans_len, "CVR %s 8.5.1302 8.5.1302 8.5.1302 http://x/ http://x/\r\n",
			        trid);
		} else if (strcmp(name, "USR") == 0 && !s->sb && strcmp(a3, "I") == 0) {
			appendf(ans, ans_len, "USR %s TWN S ct=1,rver=5,lc=1033\r\n", trid);
		} else if (strcmp(name, "USR") == 0 && !s->sb) {
			appendf(ans, ans_len, "USR %s OK user@example.com 1 0\r\n", trid);
			/* For the next poll: presence, and a profile message. */
			appendf(&s->async, &s->async_len, "ILN 0 NLN buddy@example.com Buddy 0\r\n");
			{
				static const char prof[] = "MIME-Version: 1.0\r\n"
				                           "Content-Type: text/x-msmsgsprofile\r\n\r\n";
				appendf(&s->async, &s->async_len, "MSG Hotmail Hotmail %zu\r\n",
				        sizeof(prof) - 1);
				append(&s->async, &s->async_len, prof, sizeof(prof) - 1);
			}
			if (big) {
				char *p = malloc(40000);
				memset(p, 'p', 40000);
				appendf(&s->async, &s->async_len, "NOT 40000\r\n");
				append(&s->async, &s->async_len, p, 40000);
				free(p);
			}
		} else if (strcmp(name, "USR") == 0) {
			appendf(ans, ans_len, "USR %s OK user@example.com User\r\n", trid);
		} else if (strcmp(name, "XFR") == 0) {
			appendf(ans, ans_len, "XFR %s SB 127.0.0.1:1863 CKI 17262740.1050826919.32308\r\n",
			        trid);
		} else if (strcmp(name, "CHG") == 0) {
			appendf(ans, ans_len, "CHG %s %s 0\r\n", trid, a2);
		} else if (strcmp(name, "CAL") == 0) {
			appendf(ans, ans_len, "CAL %s RINGING 11752013\r\n", trid);
			appendf(&s->async, &s->async_len, "JOI %s Buddy\r\n", a2);
		} else if (strcmp(name, "MSG") == 0) {
			appendf(ans, ans_len, "ACK %s\r\n", trid);
			if (s->sb) {
				/* The buddy answers with the same text. */
				appendf(&s->async, &s->async_len, "MSG buddy@example.com Buddy %zu\r\n",
				        payload);
				append(&s->async, &s->async_len, pl, payload);
			}
		} else if (strcmp(name, "OUT") == 0) {
			appendf(ans, ans_len, "OUT\r\n");
			out = 1;
		} else if (name[0]) {
			appendf(ans, ans_len, "200 %s\r\n", trid); /* syntax error */
		}
	}
	return out;
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	va_list ap;

	if (!logf)
		return;
	va_start(ap, fmt);
	vfprintf(logf, fmt, ap);
	va_end(ap);
	fflush(logf);
}

/* Writes a whole response to c. */
static void respond(struct conn *c, int status, const char *reason, const char *extra,
                    const char *body, size_t len, int closing)
{
	size_t hl = 0;
	char *h = NULL;

	if (cont)
		appendf(&h, &hl, "HTTP/1.1 100 Continue\r\n\r\n");
	appendf(&h, &hl, "HTTP/1.%d %d %s\r\n%sContent-Type: application/x-msn-messenger\r\n"
	                 "Content-Length: %zu\r\n%s\r\n",
	        http10 ? 0 : 1, status, reason, extra ? extra : "", len,
	        closing || http10 ? "Connection: close\r\n" : "");
	append(&c->out, &c->out_len, h, hl);
	if (len)
		append(&c->out, &c->out_len, body, len);
	free(h);
	if (closing || http10 || drop)
		c->close_after = 1;
	if (delay_ms)
		c->hold_until = now_ms() + delay_ms;
}

/* Handles the request at the front of c->in when it is whole; 1 if one was. */
static int handle(struct conn *c)
{
	char *hend, method[16], target[2048], *q, val[256], extra[256];
	size_t head_len, cl = 0, total;
	const char *path;
	struct session *s = NULL;
	char action[32] = "", server[8] = "", sid[64] = "";
	char *ans = NULL;
	size_t ans_len = 0;
	int closing = 0, i;

	if (c->out_len > c->out_off || c->close_after || !c->in_len)
		return 0; /* one response at a time per connection */
	hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!hend)
		return 0;
	head_len = (size_t)(hend + 4 - c->in);
	{
		char *p = strcasestr(c->in, "\r\nContent-Length:");
		if (p && p < hend)
			cl = strtoul(p + 17, NULL, 10);
	}
	if (c->in_len < head_len + cl)
		return 0;
	total = head_len + cl;
	if (sscanf(c->in, "%15s %2047s", method, target) != 2)
		target[0] = '\0';
	/* Origin-form, or absolute-form from a proxy. */
	path = target;
	if (strncmp(path, "http://", 7) == 0) {
		path = strchr(path + 7, '/');
		if (!path)
			path = "";
	}
	q = strchr(path, '?');
	if (strcmp(method, "POST") != 0 || strncmp(path, "/gateway/gateway.dll", 20) != 0 || !q) {
		logline("bad method=%s target=%s\n", method, target);
		respond(c, 400, "Bad Request", NULL, "", 0, 1);
		goto done;
	}
	q++;
	param(q, "Action", action, sizeof(action));
	param(q, "SessionID", sid, sizeof(sid));
	if (strcasecmp(action, "open") == 0) {
		for (i = 0; i < MAXS && sessions[i].used; i++)
			;
		if (i == MAXS) {
			respond(c, 503, "Busy", NULL, "", 0, 1);
			goto done;
		}
		s = &sessions[i];
		memset(s, 0, sizeof(*s));
		s->used = 1;
		s->major = next_major++;
		param(q, "Server", server, sizeof(server));
		s->sb = strcasecmp(server, "SB") == 0;
		param(q, "IP", val, sizeof(val));
	} else {
		unsigned major = 0, minor = 0;
		sscanf(sid, "%u.%u", &major, &minor);
		for (i = 0; i < MAXS; i++)
			if (sessions[i].used && sessions[i].major == major)
				s = &sessions[i];
		if (!s || s->closed || s->busy || minor != s->minor) {
			logline("reject action=%s sid=%s concurrent=%d stale=%d closed=%d\n",
			        action[0] ? action : "send", sid, s && s->busy, s && minor != s->minor,
			        s && s->closed);
			respond(c, 400, "Bad Request", NULL, "", 0, 0);
			goto done;
		}
	}
	{
		/* The User-Agent and any X-Test field, for the tests to check. */
		char ua[64] = "-", xt[64] = "-";
		const char *p = strcasestr(c->in, "\r\nUser-Agent:");
		if (p && p < hend) {
			p += 13 + strspn(p + 13, " \t");
			snprintf(ua, sizeof(ua), "%.*s", (int)strcspn(p, "\r"), p);
		}
		p = strcasestr(c->in, "\r\nX-Test:");
		if (p && p < hend) {
			p += 9 + strspn(p + 9, " \t");
			snprintf(xt, sizeof(xt), "%.*s", (int)strcspn(p, "\r"), p);
		}
		logline("fields ua=%s x-test=%s\n", ua, xt);
	}
	logline("request action=%s sid=%u.%u server=%s body=%zu concurrent=0 v6=%d first=%.*s\n",
	        action[0] ? action : "send", s->major, s->minor, s->sb ? "SB" : "NS", cl, c->v6,
	        (int)strcspn(c->in + head_len, "\r\n") < (int)cl ? (int)strcspn(c->in + head_len, "\r\n")
	                                                       : (int)cl,
	        c->in + head_len);
	{
		/* What was queued before this request goes out now, after the
		 * direct answers; what this request queues waits for the next. */
		char *earlier = s->async;
		size_t earlier_len = s->async_len;
		s->async = NULL;
		s->async_len = 0;
		closing = serve(s, c->in + head_len, cl, &ans, &ans_len);
		if (earlier_len && !closing)
			append(&ans, &ans_len, earlier, earlier_len);
		free(earlier);
	}
	/* --split: hold back the second half, to come with the next response. */
	{
		char *all = NULL;
		size_t all_len = 0, send_len;
		if (s->carry_len)
			append(&all, &all_len, s->carry, s->carry_len);
		if (ans_len)
			append(&all, &all_len, ans, ans_len);
		free(s->carry);
		s->carry = NULL;
		s->carry_len = 0;
		send_len = all_len;
		if (split && !closing && ans_len > 1)
			send_len = all_len - ans_len / 2;
		if (send_len < all_len)
			append(&s->carry, &s->carry_len, all + send_len, all_len - send_len);
		free(ans);
		ans = all;
		ans_len = send_len;
	}
	s->minor = s->minor ? s->minor + 1 + (unsigned)(rand() % 97) : 13160;
	if (closing)
		s->closed = 1;
	{
		const char *gw = gwip_other ? (c->v6 ? "127.0.0.1" : "::1") : (c->v6 ? "::1" : "127.0.0.1");
		/* The fields vary in order and spacing, as real gateways did. */
		if (s->minor % 2)
			snprintf(extra, sizeof(extra), "X-MSN-Messenger: SessionID=%u.%u; GW-IP=%s%s\r\n",
			         s->major, s->minor, gw, closing ? "; Session=close" : "");
		else
			snprintf(extra, sizeof(extra), "X-MSN-Messenger: GW-IP=%s;SessionID=%u.%u%s\r\n", gw,
			         s->major, s->minor, closing ? ";session=Close" : "");
	}
	if (bad_msnp && strcasecmp(action, "open") == 0)
		append(&ans, &ans_len, "\x01\x02 not msnp\r\n", 13);
	respond(c, 200, "OK", no_session ? NULL : extra, ans ? ans : "", ans_len, 0);
	answered++;
	/* Outstanding until the response is written. */
	s->busy = 1;
	c->busy_with = s;
	free(ans);
done:
	memmove(c->in, c->in + total, c->in_len - total);
	c->in_len -= total;
	c->in[c->in_len] = '\0';
	return 1;
}

static void drop_conn(int i)
{
	struct conn *c = conns[i];

	if (c->busy_with)
		c->busy_with->busy = 0;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	conns[i] = NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct sockaddr_in6 sa6;
	int lfd, lfd6 = -1, one = 1, i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			logf = fopen(argv[++i], "a");
		} else if (strcmp(argv[i], "--gwip-other") == 0) {
			gwip_other = 1;
		} else if (strcmp(argv[i], "--split") == 0) {
			split = 1;
		} else if (strcmp(argv[i], "--big") == 0) {
			big = 1;
		} else if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc) {
			delay_ms = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--drop") == 0) {
			drop = 1;
		} else if (strcmp(argv[i], "--http10") == 0) {
			http10 = 1;
		} else if (strcmp(argv[i], "--continue") == 0) {
			cont = 1;
		} else if (strcmp(argv[i], "--no-session") == 0) {
			no_session = 1;
		} else if (strcmp(argv[i], "--bad-msnp") == 0) {
			bad_msnp = 1;
		} else if (strcmp(argv[i], "--slam-after") == 0 && i + 1 < argc) {
			slam_after = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: msngw-emu [--log FILE] [--gwip-other] [--split] [--big] "
			                "[--delay MS] [--drop] [--http10] [--continue] [--no-session] "
			                "[--bad-msnp] [--slam-after N]\n");
			return 2;
		}
	}
	lfd = listen_loopback(0, 128, &sa);
	if (lfd < 0) {
		perror("msngw-emu");
		return 1;
	}
	/* The same port on ::1, when the machine has IPv6. */
	lfd6 = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd6 >= 0) {
		memset(&sa6, 0, sizeof(sa6));
		sa6.sin6_family = AF_INET6;
		sa6.sin6_addr = in6addr_loopback;
		sa6.sin6_port = sa.sin_port;
		setsockopt(lfd6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(lfd6, (struct sockaddr *)&sa6, sizeof(sa6)) != 0 || listen(lfd6, 128) != 0) {
			close(lfd6);
			lfd6 = -1;
		}
	}
	printf("port %d%s\n", ntohs(sa.sin_port), lfd6 < 0 ? " (no ::1)" : "");
	fflush(stdout);

	for (;;) {
		struct pollfd pf[MAXC + 2];
		int idx[MAXC + 2], n = 0, timeout = 1000, k;
		long long now = now_ms();

		pf[n].fd = lfd;
		pf[n].events = POLLIN;
		idx[n++] = -1;
		pf[n].fd = lfd6;
		pf[n].events = POLLIN;
		idx[n++] = -2;
		for (i = 0; i < MAXC; i++) {
			struct conn *c = conns[i];
			if (!c)
				continue;
			pf[n].fd = c->fd;
			pf[n].events = POLLIN;
			if (c->out_len > c->out_off && c->hold_until <= now)
				pf[n].events |= POLLOUT;
			if (c->hold_until > now && c->hold_until - now < timeout)
				timeout = (int)(c->hold_until - now);
			idx[n++] = i;
		}
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return 1;
		now = now_ms();
		for (k = 0; k < 2; k++) {
			int fd;
			if (pf[k].fd < 0 || !(pf[k].revents & POLLIN))
				continue;
			fd = accept_ready(pf[k].fd, 0);
			if (fd >= 0 && slam_after >= 0 && answered >= slam_after) {
				logline("slammed\n");
				close(fd);
				continue;
			}
			for (i = 0; fd >= 0 && i < MAXC && conns[i]; i++)
				;
			if (fd >= 0 && i < MAXC) {
				struct conn *c = calloc(1, sizeof(*c));
				c->fd = fd;
				c->v6 = k == 1;
				conns[i] = c;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (k = 2; k < n; k++) {
			struct conn *c = conns[idx[k]];
			if (!c)
				continue;
			if ((pf[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    read_more(c->fd, &c->in, &c->in_len, &c->in_cap) <= 0) {
				drop_conn(idx[k]);
				continue;
			}
			while (handle(c))
				;
			if (c->out_len > c->out_off && c->hold_until <= now) {
				ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				                 MSG_NOSIGNAL);
				if (w > 0)
					c->out_off += (size_t)w;
				else if (w < 0 && errno != EAGAIN) {
					drop_conn(idx[k]);
					continue;
				}
			}
			if (c->out_off == c->out_len) {
				c->out_off = c->out_len = 0;
				c->hold_until = 0;
				if (c->busy_with) {
					c->busy_with->busy = 0;
					c->busy_with = NULL;
				}
				if (c->close_after) {
					drop_conn(idx[k]);
					continue;
				}
				while (handle(c))
					;
			}
		}
	}
}
