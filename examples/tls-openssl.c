/*
 * tls-openssl.c - https:// through the I/O vtable, over OpenSSL. The
 * library has no TLS of its own: a client is given a struct h1c_io for
 * https (tls_io), and everything else (pools, keep-alive, pipelining,
 * replay, the event loop) works as it does for http. Any TLS library fits
 * the same five functions; this one is OpenSSL (needed by this example
 * only: cc tls-openssl.c -lh1c -lssl -lcrypto).
 *
 *   tls-openssl --ca FILE [--pipeline N] [--stats] URL...
 *
 * Verifies the server's certificate against the CA file (and its name or
 * IP address against the URL's host), fetches every URL on one client, and
 * writes the bodies to stdout in URL order. Exits 0 when every response
 * was a 2xx; --stats prints the client's counters as JSON on stderr.
 *
 * Two duties of any layer are shown here: it never raises SIGPIPE, even
 * when the server resets the connection (sender_write(), tls_close()),
 * and it reports a failure no new connection can cure (a certificate
 * that does not verify) as H1C_ETLS, which the client never dials again
 * for (tls_result()).
 */
#define _POSIX_C_SOURCE 200809L
#include <h1c.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the vtable --------------------------------------------------------------- */

/* What tls_open() is given (the client's tls_user): the context every
 * session is made from, and the BIO method of their writes. */
struct tls_config {
	SSL_CTX *ctx;
	BIO_METHOD *sender;
};

struct tls {
	SSL *ssl;
	int fd;
	int failed; /* a fatal error's code, returned by every later call */
};

/* Where the system has no MSG_NOSIGNAL (macOS), SO_NOSIGPIPE, set on the
 * socket in tls_open(), does its work. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* OpenSSL's socket BIO writes with write(2), which raises SIGPIPE, killing
 * the process, when the peer has reset the connection: for a record of
 * data, and for the close_notify that SSL_shutdown() sends, alike. A
 * library must not change how the process handles signals, so a session
 * writes through this BIO instead, which sends with MSG_NOSIGNAL (a write
 * to a dead socket fails with EPIPE). It reads through OpenSSL's socket
 * BIO: reading raises no signal. */
static int sender_write(BIO *b, const char *buf, int len)
{
	struct tls *t = BIO_get_data(b);
	ssize_t n = send(t->fd, buf, (size_t)len, MSG_NOSIGNAL);
	int again = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);

	BIO_clear_retry_flags(b);
	if (again)
		BIO_set_retry_write(b);
	return (int)n;
}

static long sender_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH; /* nothing is held back to flush */
}

/* Makes the BIO method of sender_write(), once per program; NULL when
 * OpenSSL is out of memory. */
static BIO_METHOD *sender_method(void)
{
	int type = BIO_get_new_index();
	BIO_METHOD *m = type < 0 ? NULL : BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "send");

	if (m && (!BIO_meth_set_write(m, sender_write) || !BIO_meth_set_ctrl(m, sender_ctrl))) {
		BIO_meth_free(m);
		m = NULL;
	}
	return m;
}

/* Called once the TCP connection is up (fd is non-blocking). The handshake
 * happens inside the first reads and writes, which report H1C_EWANTREAD or
 * H1C_EWANTWRITE while it goes on, so the event loop never blocks. */
static void *tls_open(void *user, int fd, const char *host, int *err)
{
	const struct tls_config *cf = user;
	struct tls *t = calloc(1, sizeof(*t));
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	BIO *rbio = BIO_new_socket(fd, BIO_NOCLOSE), *wbio = BIO_new(cf->sender);

	if (t)
		t->ssl = SSL_new(cf->ctx);
	if (!t || !t->ssl || !rbio || !wbio) {
		BIO_free(rbio);
		BIO_free(wbio);
		if (t)
			SSL_free(t->ssl);
		free(t);
		*err = H1C_ENOMEM;
		return NULL;
	}
	t->fd = fd;
#ifdef SO_NOSIGPIPE
	{
		int one = 1;
		(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
	}
#endif
	BIO_set_data(wbio, t);
	BIO_set_init(wbio, 1);
	SSL_set_bio(t->ssl, rbio, wbio); /* the session owns both now */
	SSL_set_connect_state(t->ssl);
	/* The library's output buffer may move between a short write and its
	 * retry, and writes may be partial, as with a socket. */
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
	} else {
		SSL_set_tlsext_host_name(t->ssl, host); /* SNI */
		SSL_set1_host(t->ssl, host);
	}
	return t;
}

/* The reason of an OpenSSL error code, never NULL. */
static const char *reason(unsigned long e)
{
	const char *s = ERR_reason_error_string(e);

	return s ? s : "TLS error";
}

/* Maps a failed SSL_read/SSL_write (r <= 0, errno as the call left it) to
 * the vtable's convention. A handshake that failed on its merits (the
 * certificate or the name does not verify, the server refused what we
 * offered) is H1C_ETLS: final, a new connection would meet it again, so
 * the client ends the request at once and never dials again for it. Any
 * other failure (a reset, a connection cut even mid-handshake, a damaged
 * record) is H1C_EIO, which a new connection may cure. Each failure prints
 * one line. */
static int tls_result(struct tls *t, int r, int in_handshake)
{
	int sys = errno;
	int e = SSL_get_error(t->ssl, r);
	unsigned long why = ERR_peek_last_error();
	int cut = 0; /* the peer closed the connection mid-record */
	long v;

#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING /* OpenSSL 3; before, SSL_ERROR_SYSCALL */
	cut = ERR_GET_LIB(why) == ERR_LIB_SSL &&
	      ERR_GET_REASON(why) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#endif

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return H1C_EWANTREAD;
	case SSL_ERROR_WANT_WRITE:
		return H1C_EWANTWRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0; /* close_notify: the end */
	}
	/* SSL_ERROR_SYSCALL or SSL_ERROR_SSL: fatal, the session is done. */
	if (e == SSL_ERROR_SSL && in_handshake && !cut) {
		v = SSL_get_verify_result(t->ssl);
		if (v != X509_V_OK)
			fprintf(stderr, "tls-openssl: certificate: %s\n",
			        X509_verify_cert_error_string(v));
		else
			fprintf(stderr, "tls-openssl: handshake: %s\n", reason(why));
		return t->failed = H1C_ETLS;
	}
	if (e == SSL_ERROR_SYSCALL && !why)
		fprintf(stderr, "tls-openssl: %s\n", sys ? strerror(sys) : "connection closed");
	else
		fprintf(stderr, "tls-openssl: %s\n", reason(why));
	return t->failed = H1C_EIO;
}

/* After a fatal error both return it again: OpenSSL must not be called on
 * that session any more. Otherwise both start with an empty error queue,
 * so that SSL_get_error() reads nothing an earlier session left there. */
static long tls_read(void *ctx, void *buf, size_t len)
{
	struct tls *t = ctx;
	int in_handshake = !SSL_is_init_finished(t->ssl);
	int r;

	if (t->failed)
		return t->failed;
	ERR_clear_error();
	r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return r > 0 ? r : tls_result(t, r, in_handshake);
}

static long tls_write(void *ctx, const void *buf, size_t len)
{
	struct tls *t = ctx;
	int in_handshake = !SSL_is_init_finished(t->ssl);
	int r;

	if (t->failed)
		return t->failed;
	ERR_clear_error();
	r = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return r > 0 ? r : tls_result(t, r, in_handshake);
}

static int tls_fd(void *ctx)
{
	return ((struct tls *)ctx)->fd;
}

/* Sends close_notify (one try, never waiting), unless a fatal error came
 * first: SSL_shutdown(3) must not follow one, and the socket is likely
 * dead anyway. */
static void tls_close(void *ctx)
{
	struct tls *t = ctx;

	if (!t->failed && SSL_is_init_finished(t->ssl))
		SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	close(t->fd);
	free(t);
}

static const struct h1c_io tls_io = {
	.size = sizeof(tls_io),
	.name = "openssl",
	.open = tls_open,
	.read = tls_read,
	.write = tls_write,
	.fd = tls_fd,
	.close = tls_close,
};

/* ---- fetching ------------------------------------------------------------------- */

struct job {
	int status, err, ended;
	char *body;
	size_t len;
};

static int on_head(void *user, const struct h1c_response *r)
{
	((struct job *)user)->status = r->status;
	return 0;
}

static int on_data(void *user, const char *p, size_t n)
{
	struct job *j = user;
	char *b = realloc(j->body, j->len + n);

	if (!b)
		return 1;
	memcpy(b + j->len, p, n);
	j->body = b;
	j->len += n;
	return 0;
}

static void on_done(void *user, int err, unsigned flags)
{
	struct job *j = user;

	(void)flags;
	j->err = err;
	j->ended = 1;
}

int main(int argc, char **argv)
{
	static const struct h1c_callbacks cb = {
		.size = sizeof(cb),
		.on_head = on_head,
		.on_data = on_data,
		.on_done = on_done,
	};
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	struct job *jobs;
	const char *ca = NULL;
	int i, first, n, stats = 0, bad = 0;
	unsigned depth = 1;
	struct tls_config cf;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (strcmp(argv[i], "--pipeline") == 0 && i + 1 < argc)
			depth = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--stats") == 0)
			stats = 1;
		else
			break;
	}
	first = i;
	n = argc - first;
	if (!ca || n < 1) {
		fprintf(stderr, "usage: tls-openssl --ca FILE [--pipeline N] [--stats] URL...\n");
		return 2;
	}
	cf.ctx = SSL_CTX_new(TLS_client_method());
	if (!cf.ctx || SSL_CTX_load_verify_locations(cf.ctx, ca, NULL) != 1) {
		fprintf(stderr, "tls-openssl: cannot load %s\n", ca);
		return 2;
	}
	SSL_CTX_set_verify(cf.ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(cf.ctx, TLS1_2_VERSION);
	if (!(cf.sender = sender_method()))
		return 2;

	memset(&co, 0, sizeof(co));
	co.tls_io = &tls_io;
	co.tls_user = &cf;
	co.pipeline_depth = depth;
	co.max_per_origin = 1;
	c = h1c_client_new(&co);
	jobs = calloc((size_t)n, sizeof(*jobs));
	if (!c || !jobs)
		return 2;
	for (i = 0; i < n; i++) {
		struct h1c_request rq;
		long long id;
		memset(&rq, 0, sizeof(rq));
		rq.url = argv[first + i];
		id = h1c_client_request(c, &rq, &cb, &jobs[i]);
		if (id < 0) {
			fprintf(stderr, "tls-openssl: %s: %s\n", rq.url, h1c_strerror((int)id));
			jobs[i].err = (int)id;
			jobs[i].ended = 1;
		}
	}
	if (h1c_client_run(c, -1) < 0)
		bad = 1;
	for (i = 0; i < n; i++) {
		if (jobs[i].err || jobs[i].status < 200 || jobs[i].status > 299) {
			fprintf(stderr, "tls-openssl: %s: %s (status %d)\n", argv[first + i],
			        jobs[i].err ? h1c_strerror(jobs[i].err) : "not a 2xx", jobs[i].status);
			bad = 1;
		}
		if (jobs[i].len) /* a failed request may have no body at all (NULL) */
			fwrite(jobs[i].body, 1, jobs[i].len, stdout);
		free(jobs[i].body);
	}
	h1c_client_stats(c, &st, sizeof(st));
	if (stats)
		fprintf(stderr,
		        "{\"responses\":%lu,\"errors\":%lu,\"connections_opened\":%lu,"
		        "\"connections_reused\":%lu,\"pipelined\":%lu,\"max_in_flight\":%lu}\n",
		        st.responses, st.errors, st.connections_opened, st.connections_reused,
		        st.pipelined, st.max_in_flight);
	h1c_client_free(c);
	SSL_CTX_free(cf.ctx);
	BIO_meth_free(cf.sender);
	free(jobs);
	return bad;
}
