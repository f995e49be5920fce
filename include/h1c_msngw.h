/*
 * h1c_msngw.h - MSN Messenger HTTP gateway sessions over an h1c client: the
 * optional module (lib/msngw.c). MSNP commands travel in the bodies of POST
 * requests to /gateway/gateway.dll; the session is kept by the
 * X-MSN-Messenger response header; the module polls while idle and never
 * has more than one request outstanding per session. The core library never
 * includes this header.
 */
#ifndef H1C_MSNGW_H
#define H1C_MSNGW_H

#include "h1c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define H1C_MSNGW_DEFAULT_GATEWAY "gateway.messenger.hotmail.com:80"
#define H1C_MSNGW_DEFAULT_NS "messenger.hotmail.com"
#define H1C_MSNGW_DEFAULT_POLL_MS 2000
#define H1C_MSNGW_DEFAULT_CLOSE_TIMEOUT_MS 5000
#define H1C_MSNGW_DEFAULT_MAX_PAYLOAD ((size_t)1024 * 1024)
#define H1C_MSNGW_DEFAULT_MAX_RETRIES 3

/* Options of a session. Zero-initialise; every 0 or NULL is the default. */
struct h1c_msngw_options {
	size_t size;          /* sizeof(struct h1c_msngw_options), or 0; see
	                         H1C_OPTIONS_INIT in h1c.h */
	const char *gateway;  /* "host[:port]" of the gateway */
	const char *server;   /* "NS" (default) or "SB" */
	const char *ip;       /* NS: the server (default messenger.hotmail.com);
	                         SB: the address from XFR (a port is removed) */
	int poll_ms;          /* poll after this long without a request */
	int batch;            /* 1: everything queued goes in one body */
	int close_timeout_ms; /* h1c_msngw_close(): give up on the answer */
	size_t max_payload;   /* longest payload accepted from the server */
	/* Header fields that replace the defaults of the same name (Content-Type,
	 * User-Agent, Accept, Pragma) or are added. */
	const struct h1c_header *headers;
	size_t num_headers;
	/* More payload commands (NULL-terminated names), beyond the built-in
	 * tables, in both directions. */
	const char *const *payload_commands;
	/* Requests in a row whose connection broke before any answer (polls
	 * sent again, commands re-queued or reported unsure) before the
	 * session ends with the last error; 0: the default. */
	int max_retries;
};

/* What a session reports. Views are valid during the call only. */
struct h1c_msngw_callbacks {
	size_t size; /* sizeof(struct h1c_msngw_callbacks), or 0; see
	                H1C_OPTIONS_INIT in h1c.h */
	/* One whole command from the server: its line as received (terminator
	 * included) and its payload (len 0 when it has none). */
	void (*on_command)(void *user, const char *line, size_t line_len, const char *payload,
	                   size_t payload_len);
	/* A command sent in a request whose connection broke before the answer:
	 * it may or may not have arrived; it is not re-sent. */
	void (*on_unsure)(void *user, const char *data, size_t len);
	/* The end, exactly once: 0 when the server closed the session
	 * (Session=close), else an error; see h1c_msngw_http_status(). */
	void (*on_end)(void *user, int err);
};

struct h1c_msngw;

/*
 * Opens a session on client c: the open request goes out when the client
 * is next driven, carrying the commands sent before it (or an empty body).
 * Returns NULL when out of memory or when an option is malformed.
 */
H1C_API struct h1c_msngw *h1c_msngw_open(struct h1c_client *c, const struct h1c_msngw_options *opt,
                                         const struct h1c_msngw_callbacks *cb, void *user);

/*
 * Queues one command: a line ending in CRLF (or LF) and, for a payload
 * command, exactly the payload length given as its last argument. Returns
 * 0, H1C_EMSNPNG for PNG (not used over the gateway), H1C_EMSNSYNTAX for
 * anything that is not exactly one command, H1C_EMSNCLOSED, H1C_ENOMEM, or
 * H1C_EINVAL for a NULL s or data.
 */
H1C_API int h1c_msngw_send(struct h1c_msngw *s, const char *data, size_t len);

/*
 * Returns the length of the first whole command in data[0..len) as the
 * application would send it (line, then payload for a payload command), 0
 * when more bytes are needed, H1C_EMSNSYNTAX, H1C_EMSNPAYLOAD for a payload
 * length no buffer could hold, or H1C_EINVAL for NULL data. s may be NULL
 * (the built-in table only).
 */
H1C_API long h1c_msngw_command_len(const struct h1c_msngw *s, const char *data, size_t len);

/* Sends OUT (once) and ends the session when the server answers with
 * Session=close, or after close_timeout_ms. Returns 0, H1C_EMSNCLOSED, or
 * H1C_EINVAL for a NULL s. */
H1C_API int h1c_msngw_close(struct h1c_msngw *s);

/* Frees s; a session still running ends without calling on_end. NULL is a
 * no-op. Must not be called from the session's own callbacks. */
H1C_API void h1c_msngw_free(struct h1c_msngw *s);

/* The newest session id, or NULL before the first answer. */
H1C_API const char *h1c_msngw_session_id(const struct h1c_msngw *s);

/* The HTTP status and reason of the answer that ended the session with an
 * error (0 and "" when none did). */
H1C_API int h1c_msngw_http_status(const struct h1c_msngw *s, const char **reason);

#ifdef __cplusplus
}
#endif

#endif /* H1C_MSNGW_H */
