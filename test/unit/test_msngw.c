/*
 * test_msngw.c - the MSN gateway module: the X-MSN-Messenger parser and the
 * MSNP stream splitter one rule at a time (the static functions, reached by
 * including the .c file), then whole sessions against the gateway emulator
 * (test/servers/msngw-emu.c): a login-shaped NS exchange, a switchboard
 * session at the same time, GW-IP changes, split bodies, big payloads, OUT
 * and Session=close, with the emulator's record showing that no request
 * was ever concurrent on a session; then the ways a session ends badly (an
 * HTTP error, no session header, a body that is not MSNP, a gateway gone,
 * a close that times out) and allocation-failure torture.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../lib/msngw.c"
#include "spawn.h"
#include "failalloc.h"
#include "iolayers.h"
#include "guard.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- X-MSN-Messenger ------------------------------------------------------------ */

static void expect_header(const char *v, const char *sid, const char *gwip, int close)
{
	struct gw_header h;

	assert_int_equal(gw_header_parse(v, strlen(v), &h), 0);
	assert_int_equal(h.sid_len, strlen(sid));
	assert_memory_equal(h.sid, sid, h.sid_len);
	if (gwip) {
		assert_non_null(h.gwip);
		assert_int_equal(h.gwip_len, strlen(gwip));
		assert_memory_equal(h.gwip, gwip, h.gwip_len);
	} else {
		assert_null(h.gwip);
	}
	assert_int_equal(h.close, close);
}

static void test_header_forms(void **state)
{
	struct gw_header h;

	(void)state;
	expect_header("SessionID=954547325.13160; GW-IP=207.46.110.18", "954547325.13160",
	              "207.46.110.18", 0);
	expect_header("GW-IP=207.46.110.18;SessionID=1.2", "1.2", "207.46.110.18", 0);
	expect_header("sessionid = 1.2 ;  gw-ip=::1 ; Session=close", "1.2", "::1", 1);
	expect_header("SessionID=1.2; Foo=bar; GW-IP=10.0.0.1; session=CLOSE", "1.2", "10.0.0.1", 1);
	expect_header("SessionID=77.8", "77.8", NULL, 0);
	expect_header("Session=open; SessionID=5.6", "5.6", NULL, 0);
	assert_int_equal(gw_header_parse("GW-IP=1.2.3.4", 13, &h), H1C_EMSNSESSION);
	assert_int_equal(gw_header_parse("", 0, &h), H1C_EMSNSESSION);
	assert_int_equal(gw_header_parse("SessionID=", 10, &h), H1C_EMSNSESSION);
}

/* ---- the MSNP splitter ------------------------------------------------------------- */

/* Cuts a stream fed in two parts (at split) into commands; returns them as
 * "line|payload\n" records, or NULL on an error. */
static char *split_at(const char *stream, size_t len, size_t split)
{
	static char out[65536];
	char buf[65536];
	size_t have = 0, o = 0, fed = 0;
	size_t parts[2];
	int k;

	parts[0] = split;
	parts[1] = len - split;
	for (k = 0; k < 2; k++) {
		size_t off = 0;
		memcpy(buf + have, stream + fed, parts[k]);
		have += parts[k];
		fed += parts[k];
		for (;;) {
			size_t ll, pl;
			int rc = msnp_command(buf + off, have - off, payload_in, NULL, 1 << 20, &ll, &pl);
			if (rc < 0)
				return NULL;
			if (rc == 0)
				break;
			memcpy(out + o, buf + off, ll);
			o += ll;
			out[o++] = '|';
			memcpy(out + o, buf + off + ll, pl);
			o += pl;
			out[o++] = '\n';
			off += ll + pl;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (have)
		return NULL; /* a command left unfinished */
	out[o] = '\0';
	return out;
}

static void test_split_every_point(void **state)
{
	static const char stream[] = "ILN 0 NLN a@b.c A 0\r\n"
	                             "MSG Hotmail Hotmail 5\r\nhello"
	                             "NOT 3\r\nxyz"
	                             "CHG 5 NLN 0\n" /* a bare LF */
	                             "241 9 4\r\nabcd"
	                             "500 10\r\n"
	                             "UBX a@b.c 2\r\nzz";
	static const char want[] = "ILN 0 NLN a@b.c A 0\r\n|\n"
	                           "MSG Hotmail Hotmail 5\r\n|hello\n"
	                           "NOT 3\r\n|xyz\n"
	                           "CHG 5 NLN 0\n|\n"
	                           "241 9 4\r\n|abcd\n"
	                           "500 10\r\n|\n"
	                           "UBX a@b.c 2\r\n|zz\n";
	size_t i, len = sizeof(stream) - 1;

	(void)state;
	for (i = 0; i <= len; i++) {
		const char *got = split_at(stream, len, i);
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void test_split_faults(void **state)
{
	size_t ll, pl;

	(void)state;
	/* A payload command without a numeric length. */
	assert_int_equal(msnp_command("MSG a b x\r\n", 11, payload_in, NULL, 100, &ll, &pl),
	                 H1C_EMSNSYNTAX);
	assert_int_equal(msnp_command("MSG\r\n", 5, payload_in, NULL, 100, &ll, &pl),
	                 H1C_EMSNSYNTAX);
	/* Longer than allowed. */
	assert_int_equal(msnp_command("MSG a b 101\r\n", 13, payload_in, NULL, 100, &ll, &pl),
	                 H1C_EMSNPAYLOAD);
	/* An empty line, or a control byte in the name. */
	assert_int_equal(msnp_command("\r\n", 2, payload_in, NULL, 100, &ll, &pl), H1C_EMSNSYNTAX);
	assert_int_equal(msnp_command("M\001G 1\r\n", 7, payload_in, NULL, 100, &ll, &pl),
	                 H1C_EMSNSYNTAX);
	/* An extra payload command from the application's table. */
	{
		static const char *const extra[] = {"XYZ", NULL};
		assert_int_equal(msnp_command("XYZ 2\r\nab", 9, payload_in, extra, 100, &ll, &pl), 1);
		assert_int_equal(pl, 2);
		assert_int_equal(msnp_command("XYZ 2\r\nab", 9, payload_in, NULL, 100, &ll, &pl), 1);
		assert_int_equal(pl, 0);
	}
	/* Incomplete: no line end yet, or payload short. */
	assert_int_equal(msnp_command("VER 1", 5, payload_in, NULL, 100, &ll, &pl), 0);
	assert_int_equal(msnp_command("NOT 5\r\nab", 9, payload_in, NULL, 100, &ll, &pl), 0);
}

static void test_send_checks(void **state)
{
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *s;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.gateway = "127.0.0.1:1";
	s = h1c_msngw_open(c, &o, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(h1c_msngw_send(s, "PNG\r\n", 5), H1C_EMSNPNG);
	assert_int_equal(h1c_msngw_send(s, "VER 1 MSNP12\r\nCVR 2\r\n", 21), H1C_EMSNSYNTAX);
	assert_int_equal(h1c_msngw_send(s, "MSG 3 N 4\r\nab", 13), H1C_EMSNSYNTAX);
	assert_int_equal(h1c_msngw_send(s, "MSG 3 N 2\r\nab", 13), 0);
	assert_int_equal(h1c_msngw_send(s, "VER 1 MSNP12", 12), H1C_EMSNSYNTAX);
	assert_int_equal(h1c_msngw_command_len(s, "MSG 3 N 2\r\nabVER", 16), 13);
	assert_int_equal(h1c_msngw_command_len(s, "MSG 3 N 2\r\na", 12), 0);
	/* A switchboard needs its address; the server is NS or SB. */
	o.server = "SB";
	assert_null(h1c_msngw_open(c, &o, NULL, NULL));
	o.server = "XX";
	o.ip = "1.2.3.4";
	assert_null(h1c_msngw_open(c, &o, NULL, NULL));
	/* Malformed command lines, one rule each. */
	assert_int_equal(h1c_msngw_command_len(NULL, " VER 1\r\n", 8), H1C_EMSNSYNTAX); /* no name */
	assert_int_equal(h1c_msngw_command_len(NULL, "V\x01R 1\r\n", 8), H1C_EMSNSYNTAX);
	assert_int_equal(h1c_msngw_command_len(NULL, "MSG\r\n", 5), H1C_EMSNSYNTAX); /* no length */
	assert_int_equal(h1c_msngw_command_len(NULL, "MSG 1 N x2\r\n", 12), H1C_EMSNSYNTAX);
	assert_int_equal(h1c_msngw_command_len(NULL, "MSG 1 N 99999999999999999999\r\n", 30),
	                 H1C_EMSNPAYLOAD);
	assert_int_equal(h1c_msngw_command_len(NULL, "200 1 ab\r\n", 10), 10); /* an error reply */
	assert_int_equal(h1c_msngw_command_len(NULL, NULL, 1), H1C_EINVAL);
	/* Calls on nothing, or after the end. */
	assert_int_equal(h1c_msngw_send(NULL, "OUT\r\n", 5), H1C_EINVAL);
	assert_int_equal(h1c_msngw_send(s, NULL, 5), H1C_EINVAL);
	assert_int_equal(h1c_msngw_close(NULL), H1C_EINVAL);
	assert_int_equal(h1c_msngw_close(s), 0);
	assert_int_equal(h1c_msngw_close(s), H1C_EMSNCLOSED);
	assert_null(h1c_msngw_open(NULL, &o, NULL, NULL));
	h1c_msngw_free(s);
	h1c_client_free(c);
}

/* ---- sessions against the emulator --------------------------------------------- */

static char emu_path[4096];
static pid_t running; /* stopped by the teardown when a test fails early */

struct emu {
	pid_t pid;
	int port;
	char log[64];
	char gw[32]; /* "127.0.0.1:PORT": the gateway option */
};

static void emu_start3(struct emu *e, const char *mode1, const char *mode2, const char *mode3)
{
	int fd, n = 0;
	const char *argv[8];

	strcpy(e->log, "/tmp/h1c-msngw-XXXXXX");
	fd = mkstemp(e->log);
	assert_true(fd >= 0);
	close(fd);
	argv[n++] = emu_path;
	argv[n++] = "--log";
	argv[n++] = e->log;
	if (mode1)
		argv[n++] = mode1;
	if (mode2)
		argv[n++] = mode2;
	if (mode3)
		argv[n++] = mode3;
	argv[n] = NULL;
	e->pid = spawn_server(argv, &e->port);
	running = e->pid;
	snprintf(e->gw, sizeof(e->gw), "127.0.0.1:%d", e->port);
}

static void emu_start(struct emu *e, const char *mode1, const char *mode2)
{
	emu_start3(e, mode1, mode2, NULL);
}

static int stop_running(void **state)
{
	(void)state;
	if (running) {
		kill(running, SIGTERM);
		waitpid(running, NULL, 0);
		running = 0;
	}
	return 0;
}

static void emu_stop(struct emu *e)
{
	running = 0;
	kill(e->pid, SIGTERM);
	waitpid(e->pid, NULL, 0);
	unlink(e->log);
}

static int emu_count(const struct emu *e, const char *a, const char *b)
{
	return log_lines(e->log, a, b);
}

/* What a session received. */
struct rec {
	char text[65536];
	size_t len;
	size_t payload_total;
	int ended, err, unsure;
	char sb_addr[64];
};

static void on_command(void *user, const char *line, size_t ll, const char *payload, size_t pl)
{
	struct rec *r = user;

	if (r->len + ll + pl < sizeof(r->text)) {
		memcpy(r->text + r->len, line, ll);
		memcpy(r->text + r->len + ll, payload, pl);
		r->len += ll + pl;
		r->text[r->len] = '\0';
	}
	r->payload_total += pl;
	/* XFR 6 SB 127.0.0.1:1863 CKI ...: where the switchboard is. */
	if (ll > 4 && ll < 200 && memcmp(line, "XFR", 3) == 0) {
		char copy[200]; /* the line is a view, not a string */
		memcpy(copy, line, ll);
		copy[ll] = '\0';
		sscanf(copy, "XFR %*s SB %63s", r->sb_addr);
	}
}

static void on_unsure(void *user, const char *data, size_t len)
{
	(void)data;
	(void)len;
	((struct rec *)user)->unsure++;
}

static void on_end(void *user, int err)
{
	struct rec *r = user;

	r->ended++;
	r->err = err;
}

static const struct h1c_msngw_callbacks rcb = {
	.size = sizeof(rcb),
	.on_command = on_command,
	.on_unsure = on_unsure,
	.on_end = on_end,
};

static void send_all(struct h1c_msngw *s, const char *const *cmds)
{
	for (; *cmds; cmds++)
		assert_int_equal(h1c_msngw_send(s, *cmds, strlen(*cmds)), 0);
}

static const char *const ns_login[] = {
	"VER 1 MSNP12 CVR0\r\n",
	"CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 msmsgs user@example.com\r\n",
	"USR 3 TWN I user@example.com\r\n",
	"USR 4 TWN S t=ticket\r\n",
	"CHG 5 NLN 0\r\n",
	"XFR 6 SB\r\n",
	NULL,
};

/* Runs the client until every session in r[0..n) ended (60 s at most). */
static void run_until_ended(struct h1c_client *c, struct rec *r, int n)
{
	int i, all;
	int rounds = 0;

	do {
		h1c_client_run(c, 100);
		for (all = 1, i = 0; i < n; i++)
			all = all && r[i].ended;
	} while (!all && ++rounds < 600);
	for (i = 0; i < n; i++)
		assert_int_equal(r[i].ended, 1);
}

/* A login-shaped NS session, an XFR, and a switchboard session running at
 * the same time on the same client; both closed with OUT. */
static void session_pair(const char *mode1, const char *mode2, int batch)
{
	static struct rec r[2];
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *ns, *sb = NULL;
	static const char msg[] = "MSG 3 N 19\r\nMIME-Version: 1.0\r\n";
	int rounds = 0;

	memset(r, 0, sizeof(r));
	emu_start(&e, mode1, mode2);
	memset(&o, 0, sizeof(o));
	o.gateway = e.gw;
	o.poll_ms = 50;
	o.batch = batch;
	ns = h1c_msngw_open(c, &o, &rcb, &r[0]);
	assert_non_null(ns);
	send_all(ns, ns_login);
	/* Drive until the XFR answer names a switchboard. */
	while (!r[0].sb_addr[0] && !r[0].ended && rounds++ < 600)
		h1c_client_run(c, 100);
	assert_true(r[0].sb_addr[0] != '\0');
	o.server = "SB";
	o.ip = r[0].sb_addr; /* host:port; the module drops the port */
	sb = h1c_msngw_open(c, &o, &rcb, &r[1]);
	assert_non_null(sb);
	assert_int_equal(h1c_msngw_send(sb, "USR 1 user@example.com 17262740.1050826919.32308\r\n",
	                                50),
	                 0);
	assert_int_equal(h1c_msngw_send(sb, "CAL 2 buddy@example.com\r\n", 25), 0);
	assert_int_equal(h1c_msngw_send(sb, msg, sizeof(msg) - 1), 0);
	/* Let the switchboard's buddy answer through polls, then close both. */
	rounds = 0;
	while (!strstr(r[1].text, "MSG buddy@example.com") && rounds++ < 600)
		h1c_client_run(c, 100);
	assert_non_null(strstr(r[1].text, "MSG buddy@example.com Buddy 19\r\n"));
	if (r[0].ended || r[1].ended)
		fail_msg("a session ended early: NS %s, SB %s (HTTP %d)", h1c_strerror(r[0].err),
		         h1c_strerror(r[1].err), h1c_msngw_http_status(r[1].ended ? sb : ns, NULL));
	assert_int_equal(h1c_msngw_close(sb), 0);
	assert_int_equal(h1c_msngw_close(ns), 0);
	run_until_ended(c, r, 2);
	assert_int_equal(r[0].err, 0);
	assert_int_equal(r[1].err, 0);
	/* What the NS said, in order, commands whole. */
	assert_non_null(strstr(r[0].text, "VER 1 MSNP12 CVR0\r\n"));
	assert_non_null(strstr(r[0].text, "USR 4 OK user@example.com 1 0\r\n"));
	assert_non_null(strstr(r[0].text, "ILN 0 NLN buddy@example.com"));
	assert_non_null(strstr(r[0].text, "OUT\r\n"));
	assert_true(strstr(r[0].text, "VER 1") < strstr(r[0].text, "XFR 6 SB"));
	assert_non_null(strstr(r[1].text, "CAL 2 RINGING"));
	assert_non_null(strstr(r[1].text, "JOI buddy@example.com"));
	if (mode1 && strcmp(mode1, "--big") == 0)
		assert_true(r[0].payload_total >= 40000);
	/* The emulator never saw two requests at once on a session, nor a
	 * stale id, and both sessions were opened and closed once. */
	assert_int_equal(emu_count(&e, "reject", NULL), 0);
	assert_int_equal(emu_count(&e, "action=open", "server=NS"), 1);
	assert_int_equal(emu_count(&e, "action=open", "server=SB"), 1);
	assert_int_equal(emu_count(&e, "action=poll", NULL) > 0, 1);
	if (mode1 && strcmp(mode1, "--gwip-other") == 0)
		assert_true(emu_count(&e, "v6=1", NULL) > 0);
	assert_non_null(h1c_msngw_session_id(ns));
	h1c_msngw_free(ns);
	h1c_msngw_free(sb);
	h1c_client_free(c);
	emu_stop(&e);
}

static void test_session_plain(void **state)
{
	(void)state;
	session_pair(NULL, NULL, 0);
}

static void test_session_batched(void **state)
{
	(void)state;
	session_pair(NULL, NULL, 1);
}

static void test_session_gwip_other(void **state)
{
	(void)state;
	session_pair("--gwip-other", NULL, 0);
}

static void test_session_split(void **state)
{
	(void)state;
	session_pair("--split", NULL, 0);
}

static void test_session_big(void **state)
{
	(void)state;
	session_pair("--big", "--split", 0);
}

static void test_session_delay(void **state)
{
	(void)state;
	session_pair("--delay", "150", 0);
}

static void test_session_http10(void **state)
{
	(void)state;
	session_pair("--http10", NULL, 0);
}

static void test_session_continue(void **state)
{
	(void)state;
	session_pair("--continue", NULL, 0);
}

/* A gateway that answers with an HTTP error ends the session with the
 * status and reason readable. */
static void test_session_http_error(void **state)
{
	struct rec r;
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *s;
	const char *reason;

	(void)state;
	memset(&r, 0, sizeof(r));
	emu_start(&e, NULL, NULL);
	memset(&o, 0, sizeof(o));
	o.gateway = e.gw;
	o.server = "SB";
	o.ip = "127.0.0.1:1863";
	s = h1c_msngw_open(c, &o, &rcb, &r);
	assert_non_null(s);
	/* Wait for the open's answer with nothing outstanding, then make the
	 * id stale, as an expired session's would be: the emulator answers 400. */
	{
		int rounds = 0;
		while (!(s->opened && s->req == REQ_NONE) && rounds++ < 600)
			h1c_client_run(c, 10);
	}
	assert_non_null(h1c_msngw_session_id(s));
	{
		char *dot = strchr(s->sid, '.');
		assert_non_null(dot);
		dot[1] = '9';
		dot[2] = '\0';
	}
	assert_int_equal(h1c_msngw_send(s, "CAL 2 buddy@example.com\r\n", 25), 0);
	run_until_ended(c, &r, 1);
	assert_int_equal(r.err, H1C_EMSNHTTP);
	assert_int_equal(h1c_msngw_http_status(s, &reason), 400);
	assert_string_equal(reason, "Bad Request");
	assert_int_equal(h1c_msngw_send(s, "OUT\r\n", 5), H1C_EMSNCLOSED);
	h1c_msngw_free(s);
	h1c_client_free(c);
	emu_stop(&e);
}

/* Fails the 1st, 2nd, ... allocation in turn (the client's and the
 * module's, through the client's allocator) while a session logs in, is
 * transferred and closes: each run opens or refuses cleanly, ends the
 * session exactly once with 0 or H1C_ENOMEM, never loses a command without
 * saying so (its answer came, the send was refused, or the session ended
 * with an error), and frees everything. */
static void test_allocation_failures(void **state)
{
	static struct rec r;
	struct emu e;
	long clean = 0, n;

	(void)state;
	emu_start(&e, NULL, NULL);
	for (n = 0;; n++) {
		struct h1c_client_options co;
		struct h1c_msngw_options o;
		struct h1c_client *c;
		struct h1c_msngw *s;
		int i, refused = 0, rounds = 0;

		failalloc_start(n);
		memset(&r, 0, sizeof(r));
		memset(&co, 0, sizeof(co));
		co.alloc = &failing_allocator;
		c = h1c_client_new(&co);
		if (!c) {
			assert_int_equal(live_blocks, 0);
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.gateway = e.gw;
		o.poll_ms = 20;
		s = h1c_msngw_open(c, &o, &rcb, &r);
		if (!s) {
			h1c_client_free(c);
			assert_int_equal(live_blocks, 0);
			continue;
		}
		for (i = 0; ns_login[i]; i++) {
			int rc = h1c_msngw_send(s, ns_login[i], strlen(ns_login[i]));
			if (rc) {
				assert_true(rc == H1C_ENOMEM || rc == H1C_EMSNCLOSED);
				refused++;
			}
		}
		while (!r.ended && !strstr(r.text, "XFR 6 SB") && rounds++ < 300)
			h1c_client_run(c, 20);
		if (!r.ended) {
			/* Every command went through: all answered. */
			if (!refused && !strstr(r.text, "USR 4 OK"))
				fail_msg("run %ld: no USR 4 answer after %d rounds, got [%s], unsure %d", n,
				         rounds, r.text, r.unsure);
			if (h1c_msngw_close(s) == 0)
				run_until_ended(c, &r, 1);
		}
		assert_true(r.ended <= 1);
		if (r.ended && r.err != 0 && r.err != H1C_ENOMEM)
			fail_msg("run %ld: the session ended with %s", n, h1c_strerror(r.err));
		h1c_msngw_free(s);
		h1c_client_free(c);
		assert_int_equal(live_blocks, 0);
		if (n == 0) {
			assert_int_equal(r.err, 0);
			assert_non_null(strstr(r.text, "XFR 6 SB"));
			clean = alloc_no;
		} else if (n > clean) {
			break;
		}
	}
	assert_true(clean > 10);
	print_message("%ld allocations in a clean session, each failed in turn\n", clean);
	emu_stop(&e);
}

/* A gateway slower than close_timeout_ms: closing ends the session with
 * H1C_ETIMEDOUT, once, without waiting for the answer to OUT. */
static void test_close_timeout(void **state)
{
	static struct rec r;
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *s;
	int rounds = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	emu_start(&e, "--delay", "400");
	memset(&o, 0, sizeof(o));
	o.gateway = e.gw;
	o.close_timeout_ms = 50;
	s = h1c_msngw_open(c, &o, &rcb, &r);
	assert_non_null(s);
	assert_int_equal(h1c_msngw_send(s, ns_login[0], strlen(ns_login[0])), 0);
	while (!strstr(r.text, "VER 1") && !r.ended && rounds++ < 300)
		h1c_client_run(c, 20);
	assert_non_null(strstr(r.text, "VER 1"));
	assert_int_equal(h1c_msngw_close(s), 0);
	run_until_ended(c, &r, 1);
	assert_int_equal(r.err, H1C_ETIMEDOUT);
	h1c_msngw_free(s);
	h1c_client_free(c);
	emu_stop(&e);
}

/* Callbacks as a program built against an older header passes them, at a
 * guard page: size 0 (the 0.2 layout: every one called) and a size that
 * ends after on_command (on_unsure and on_end past it are never read,
 * so the session's end is seen in its state instead). */
static void test_callbacks_older(void **state)
{
	static const size_t sizes[] = {0, offsetof(struct h1c_msngw_callbacks, on_unsure)};
	static struct rec r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct h1c_msngw_callbacks v = rcb, *old;
		struct h1c_client *c = h1c_client_new(NULL);
		struct h1c_msngw_options o;
		struct h1c_msngw *s;
		struct emu e;
		void *map;
		size_t maplen;
		int rounds = 0;

		memset(&r, 0, sizeof(r));
		memset(&o, 0, sizeof(o));
		emu_start(&e, NULL, NULL);
		o.gateway = e.gw;
		v.size = sizes[i];
		old = guard_copy(&v, sizes[i] ? sizes[i] : sizeof(v), &map, &maplen);
		s = h1c_msngw_open(c, &o, old, &r);
		munmap(map, maplen); /* the session keeps a copy */
		assert_non_null(s);
		assert_int_equal(h1c_msngw_send(s, ns_login[0], strlen(ns_login[0])), 0);
		assert_int_equal(h1c_msngw_close(s), 0);
		while (!s->ended && rounds++ < 600)
			h1c_client_run(c, 10);
		assert_true(s->ended);
		assert_non_null(strstr(r.text, "VER 1 MSNP12 CVR0\r\n"));
		assert_int_equal(r.ended, i == 0);
		h1c_msngw_free(s);
		h1c_client_free(c);
		emu_stop(&e);
	}
}

/* Opens a session on c against the emulator e and drives it until the
 * open is answered with nothing outstanding. */
static struct h1c_msngw *open_idle(struct h1c_client *c, const struct emu *e, struct rec *r,
                                   struct h1c_msngw_options *o)
{
	struct h1c_msngw *s;
	int rounds = 0;

	o->gateway = e->gw;
	s = h1c_msngw_open(c, o, &rcb, r);
	assert_non_null(s);
	while (!(s->opened && s->req == REQ_NONE) && !r->ended && rounds++ < 600)
		h1c_client_run(c, 10);
	return s;
}

/* Starts the emulator in mode, opens a session carrying VER on client c
 * and runs it to its end. */
static struct h1c_msngw *vers_until_end(struct h1c_client *c, struct emu *e, const char *mode,
                                        struct rec *r)
{
	struct h1c_msngw_options o;
	struct h1c_msngw *s;

	memset(r, 0, sizeof(*r));
	memset(&o, 0, sizeof(o));
	emu_start(e, mode, NULL);
	o.gateway = e->gw;
	s = h1c_msngw_open(c, &o, &rcb, r);
	assert_non_null(s);
	assert_int_equal(h1c_msngw_send(s, ns_login[0], strlen(ns_login[0])), 0);
	run_until_ended(c, r, 1);
	return s;
}

/* A 200 without X-MSN-Messenger (a web page, or a proxy's): no session.
 * It ends with H1C_EMSNSESSION, the status readable, and the body is not
 * taken for commands. */
static void test_session_no_header(void **state)
{
	static struct rec r;
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw *s = vers_until_end(c, &e, "--no-session", &r);
	const char *reason;

	(void)state;
	assert_int_equal(r.err, H1C_EMSNSESSION);
	assert_int_equal(h1c_msngw_http_status(s, &reason), 200);
	assert_string_equal(reason, "no X-MSN-Messenger session");
	assert_int_equal(r.len, 0); /* the emulator did answer VER: not delivered */
	assert_int_equal(emu_count(&e, "action=open", NULL), 1);
	assert_null(h1c_msngw_session_id(s));
	h1c_msngw_free(s);
	h1c_client_free(c);
	emu_stop(&e);
}

/* A body that is not MSNP ends the session with H1C_EMSNSYNTAX after the
 * whole commands before it were delivered. */
static void test_session_bad_msnp(void **state)
{
	static struct rec r;
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw *s = vers_until_end(c, &e, "--bad-msnp", &r);

	(void)state;
	assert_int_equal(r.err, H1C_EMSNSYNTAX);
	assert_string_equal(r.text, "VER 1 MSNP12 CVR0\r\n");
	h1c_msngw_free(s);
	h1c_client_free(c);
	emu_stop(&e);
}

/* A gateway gone after the open (every new connection closed as it is
 * accepted, every answer followed by a close): the session does not retry
 * forever; it ends after max_retries requests in a row were cut, with the
 * error of the last. */
static void test_gateway_gone(void **state)
{
	static struct rec r;
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	o.max_retries = 2;
	o.poll_ms = 20;
	emu_start3(&e, "--drop", "--slam-after", "1");
	s = open_idle(c, &e, &r, &o);
	assert_int_equal(r.ended, 0);
	assert_int_equal(h1c_msngw_send(s, ns_login[0], strlen(ns_login[0])), 0);
	run_until_ended(c, &r, 1);
	if (r.err != H1C_EUNANSWERED && r.err != H1C_ETRUNCATED && r.err != H1C_EIO &&
	    r.err != H1C_ENOTSENT)
		fail_msg("ended with %s", h1c_strerror(r.err));
	assert_non_null(strstr(s->reason, "requests in a row cut"));
	assert_true(emu_count(&e, "slammed", NULL) >= 3);
	h1c_msngw_free(s);
	h1c_client_free(c);
	emu_stop(&e);
}

/* An I/O layer that, once "dead" is set, never gets a byte out (a TLS
 * handshake waiting for the server) while the server closes: the requests
 * end H1C_ENOTSENT, so the command is put back first and sent again, not
 * reported unsure; after max_retries the session ends with H1C_ENOTSENT. */
static int layer_dead;

static long hs_write(void *ctx, const void *buf, size_t len)
{
	return layer_dead ? H1C_EWANTREAD : pass_write(ctx, buf, len);
}

static const struct h1c_io handshake_io = {
	.size = sizeof(handshake_io),
	.name = "handshake",
	.open = pass_open,
	.read = pass_read,
	.write = hs_write,
	.fd = pass_fd,
	.close = pass_close,
};

/* One run of that, against a new emulator (it slams every connection
 * after its first answer); n > 0 fails allocation n. Returns the
 * allocations. */
static long gone_before_sending(long n)
{
	struct emu em;
	const struct emu *e = &em;
	static struct rec r;
	struct h1c_client_options co;
	struct h1c_msngw_options o;
	struct h1c_client *c;
	struct h1c_msngw *s;
	int i, rc, queued = 0;

	emu_start3(&em, "--drop", "--slam-after", "1");
	failalloc_start(n);
	layer_dead = 0;
	memset(&r, 0, sizeof(r));
	memset(&co, 0, sizeof(co));
	memset(&o, 0, sizeof(o));
	co.alloc = &failing_allocator;
	co.io = &handshake_io;
	o.max_retries = 2;
	c = h1c_client_new(&co);
	if (!c) {
		emu_stop(&em);
		return alloc_no;
	}
	o.gateway = e->gw;
	s = h1c_msngw_open(c, &o, &rcb, &r);
	if (!s) {
		h1c_client_free(c);
		assert_int_equal(live_blocks, 0);
		emu_stop(&em);
		return alloc_no;
	}
	{
		int rounds = 0;
		while (!(s->opened && s->req == REQ_NONE) && !r.ended && rounds++ < 600)
			h1c_client_run(c, 10);
	}
	if (!r.ended) {
		layer_dead = 1;
		rc = h1c_msngw_send(s, ns_login[0], strlen(ns_login[0]));
		assert_true(rc == 0 || rc == H1C_ENOMEM);
		queued += rc == 0;
		/* Once it is outstanding, more commands queue behind it, so
		 * putting it back first needs room. */
		for (i = 0; i < 50 && s->req == REQ_NONE && !r.ended; i++)
			h1c_client_run(c, 0);
		for (i = 1; ns_login[i]; i++)
			queued += h1c_msngw_send(s, ns_login[i], strlen(ns_login[i])) == 0;
		if (queued == 6) {
			/* A payload that fills the queue to 5 bytes short of its
			 * 4096-byte capacity: putting VER back needs more. */
			static char msg[4096];
			size_t total = 4091 - s->q_len;
			int hl = snprintf(msg, sizeof(msg), "MSG 9 N %zu\r\n", total - 14);
			assert_int_equal(hl, 14);
			memset(msg + 14, 'm', total - 14);
			queued += h1c_msngw_send(s, msg, total) == 0;
			if (queued == 7)
				assert_int_equal(s->q_cap - s->q_len, 5);
		}
		run_until_ended(c, &r, 1);
		if (r.err != H1C_ENOTSENT && !(n && r.err == H1C_ENOMEM))
			fail_msg("run %ld: ended with %s", n, h1c_strerror(r.err));
		assert_int_equal(r.unsure, 0); /* it never left */
		if (!n) {
			assert_int_equal(s->n_cuts + 1, (size_t)queued); /* VER ended with it */
			/* Only the open reached the gateway. */
			assert_int_equal(emu_count(e, "request action=", NULL), 1);
			assert_true(emu_count(e, "slammed", NULL) >= 3);
		}
	}
	assert_true(r.ended <= 1);
	h1c_msngw_free(s);
	h1c_client_free(c);
	assert_int_equal(live_blocks, 0);
	emu_stop(&em);
	return alloc_no;
}

static void test_gateway_gone_before_sending(void **state)
{
	long clean, n;

	(void)state;
	clean = gone_before_sending(0);
	for (n = 1; n <= clean; n++)
		gone_before_sending(n);
	print_message("%ld allocations in a clean run, each failed in turn\n", clean);
}

/* Closing while a request is outstanding at a slow gateway: the close
 * timeout still holds; the session ends with H1C_ETIMEDOUT before that
 * request's answer comes (it was sent with no deadline of its own). */
static void test_close_timeout_in_flight(void **state)
{
	static struct rec r;
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *s;
	const char *reason;
	int rounds = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	o.close_timeout_ms = 50;
	o.poll_ms = 60000; /* no poll in the way */
	emu_start(&e, "--delay", "3000");
	s = open_idle(c, &e, &r, &o);
	assert_int_equal(r.ended, 0);
	assert_int_equal(h1c_msngw_send(s, ns_login[0], strlen(ns_login[0])), 0);
	while (s->req == REQ_NONE && rounds++ < 100)
		h1c_client_run(c, 0);
	assert_int_equal(s->req, REQ_SEND);
	assert_int_equal(h1c_msngw_close(s), 0);
	run_until_ended(c, &r, 1);
	assert_int_equal(r.err, H1C_ETIMEDOUT);
	assert_null(strstr(r.text, "VER 1")); /* ended before the 3 s answer */
	assert_int_equal(h1c_msngw_http_status(s, &reason), 0);
	assert_string_equal(reason, "no answer to OUT in time");
	h1c_msngw_free(s);
	h1c_client_free(c);
	emu_stop(&e);
}

/* Options: fields replacing a default (User-Agent) or added (X-Test) go
 * on every request; a gateway without a port is port 80, a malformed one
 * refused; freeing a session with a request outstanding cancels it, and
 * the client runs on without calling back into it. */
static void test_session_options(void **state)
{
	static struct rec r;
	static const struct h1c_header fields[] = {
		{"user-agent", 10, "h1c-test/1", 10},
		{"X-Test", 6, "yes", 3},
	};
	struct emu e;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_msngw_options o;
	struct h1c_msngw *s;
	int rounds = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	o.gateway = "127.0.0.1";
	s = h1c_msngw_open(c, &o, &rcb, &r);
	assert_non_null(s);
	assert_int_equal(s->gw_port, 80);
	h1c_msngw_free(s);
	o.gateway = "127.0.0.1:99999";
	assert_null(h1c_msngw_open(c, &o, &rcb, &r));
	h1c_msngw_free(NULL);

	o.headers = fields;
	o.num_headers = 2;
	o.poll_ms = 60000;
	emu_start(&e, "--delay", "200");
	s = open_idle(c, &e, &r, &o);
	assert_int_equal(r.ended, 0);
	assert_int_equal(emu_count(&e, "fields ua=h1c-test/1 x-test=yes", NULL), 1);
	assert_int_equal(emu_count(&e, "ua=MSMSGS", NULL), 0);
	assert_int_equal(h1c_msngw_send(s, ns_login[0], strlen(ns_login[0])), 0);
	while (s->req == REQ_NONE && rounds++ < 100)
		h1c_client_run(c, 0);
	assert_int_equal(s->req, REQ_SEND);
	h1c_msngw_free(s);
	rounds = 0;
	while (h1c_client_run(c, 50) > 0 && rounds++ < 100)
		;
	assert_int_equal(r.ended, 0); /* no callback after the free */
	assert_int_equal(emu_count(&e, "fields ua=h1c-test/1 x-test=yes", NULL) >= 1, 1);
	h1c_client_free(c);
	emu_stop(&e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_split_every_point),
		cmocka_unit_test(test_split_faults),
		cmocka_unit_test(test_send_checks),
		cmocka_unit_test_teardown(test_session_plain, stop_running),
		cmocka_unit_test_teardown(test_session_batched, stop_running),
		cmocka_unit_test_teardown(test_session_gwip_other, stop_running),
		cmocka_unit_test_teardown(test_session_split, stop_running),
		cmocka_unit_test_teardown(test_session_big, stop_running),
		cmocka_unit_test_teardown(test_session_delay, stop_running),
		cmocka_unit_test_teardown(test_session_http10, stop_running),
		cmocka_unit_test_teardown(test_session_continue, stop_running),
		cmocka_unit_test_teardown(test_session_http_error, stop_running),
		cmocka_unit_test_teardown(test_close_timeout, stop_running),
		cmocka_unit_test_teardown(test_callbacks_older, stop_running),
		cmocka_unit_test_teardown(test_close_timeout_in_flight, stop_running),
		cmocka_unit_test_teardown(test_session_no_header, stop_running),
		cmocka_unit_test_teardown(test_session_options, stop_running),
		cmocka_unit_test_teardown(test_session_bad_msnp, stop_running),
		cmocka_unit_test_teardown(test_gateway_gone, stop_running),
		cmocka_unit_test_teardown(test_gateway_gone_before_sending, stop_running),
		cmocka_unit_test_teardown(test_allocation_failures, stop_running),
	};
	const char *slash = strrchr(argv[0], '/');

	(void)argc;
	snprintf(emu_path, sizeof(emu_path), "%.*s/../msngw-emu", slash ? (int)(slash - argv[0]) : 1,
	         slash ? argv[0] : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
