/*
 * h1c.h - the public interface of h1c, an embeddable HTTP/1.1 client library.
 *
 * This header is the contract: what is not declared here is not API.
 * Conventions (see h1c(3)):
 *   - a function returns >= 0 on success (or a count) and a negative
 *     H1C_E* code on failure; H1C_EINCOMPLETE means "give me more bytes"
 *     and is not an error;
 *   - the parser and the decoders never copy: they return views
 *     (pointer + length) into the caller's buffer, valid for as long as the
 *     caller keeps those bytes;
 *   - the parser, framing, decoder and reader functions (h1c_parse_*,
 *     h1c_header*, h1c_framing_*, h1c_body_*, h1c_reader_*) touch no
 *     socket, no clock and no global, and allocate nothing; the client
 *     (h1c_client_*, h1c_io_plain) is the one layer with sockets and the
 *     monotonic clock, and allocates through its allocator hooks;
 *   - nothing touches process-wide state: no globals, no signal
 *     handlers, and no SIGPIPE (sends use MSG_NOSIGNAL or SO_NOSIGPIPE).
 */
#ifndef H1C_H
#define H1C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef H1C_API
#if defined(__GNUC__) || defined(__clang__)
#define H1C_API __attribute__((visibility("default")))
#else
#define H1C_API
#endif
#endif

#define H1C_VERSION_MAJOR 0
#define H1C_VERSION_MINOR 1
#define H1C_VERSION_PATCH 0
#define H1C_VERSION_STRING "0.1.0"

/*
 * Error codes. The numbers never change; new codes are appended.
 * X(name, number, message) - h1c_strerror() returns the message.
 */
#define H1C_ERRORS(X)                                                        \
	X(H1C_OK, 0, "success")                                                  \
	X(H1C_EINCOMPLETE, -1, "need more input")                                \
	X(H1C_ENOMEM, -2, "out of memory")                                       \
	X(H1C_EINVAL, -3, "invalid argument")                                    \
	X(H1C_EVERSION, -4, "unsupported or malformed HTTP version")             \
	X(H1C_ESTATUS, -5, "malformed status line")                              \
	X(H1C_EHEADER, -6, "malformed header field")                             \
	X(H1C_EHEADERSIZE, -7, "header section too large")                       \
	X(H1C_EHEADERCOUNT, -8, "too many header fields")                        \
	X(H1C_ELINEEND, -9, "bare LF or CR where CRLF is required")              \
	X(H1C_EOBSFOLD, -10, "line folding in a framing header field")           \
	X(H1C_ECONTENTLENGTH, -11, "malformed Content-Length")                   \
	X(H1C_ECLCONFLICT, -12, "conflicting Content-Length values")             \
	X(H1C_ETRANSFERENCODING, -13, "malformed or invalid Transfer-Encoding") \
	X(H1C_ECHUNKSIZE, -14, "malformed or overflowing chunk size")            \
	X(H1C_ECHUNKEXT, -15, "malformed or oversized chunk extension")          \
	X(H1C_ECHUNKDATA, -16, "missing CRLF after chunk data")                  \
	X(H1C_ETRAILER, -17, "malformed trailer field")                          \
	X(H1C_ETRAILERSIZE, -18, "trailer section too large")                    \
	X(H1C_ETRUNCATED, -19, "connection closed before the response ended")   \
	X(H1C_EINTERIM, -20, "too many interim (1xx) responses")                 \
	X(H1C_EBYTERANGES, -21, "malformed multipart/byteranges body")           \
	X(H1C_EPARTLENGTH, -22, "byteranges part length differs from its Content-Range") \
	X(H1C_ESWITCHED, -23, "connection no longer speaks HTTP/1.1 (101 or CONNECT)") \
	X(H1C_EEXTRADATA, -24, "bytes after a response that ended the connection's use") \
	X(H1C_EBADREQUEST, -25, "request is malformed or would inject CR/LF")   \
	X(H1C_EURL, -26, "malformed or unsupported URL")                         \
	X(H1C_ERESOLVE, -27, "cannot resolve the host name")                     \
	X(H1C_ECONNECT, -28, "cannot connect to the server")                     \
	X(H1C_ETIMEDOUT, -29, "timed out")                                       \
	X(H1C_EIO, -30, "I/O error on the connection")                           \
	X(H1C_EUNANSWERED, -31, "connection lost before a response began; the server may have processed the request") \
	X(H1C_EWANTREAD, -32, "call again when the descriptor is readable")      \
	X(H1C_EWANTWRITE, -33, "call again when the descriptor is writable")     \
	X(H1C_ECALLBACK, -34, "a callback stopped the transfer")                 \
	X(H1C_ENOTSENT, -35, "connection lost before the request was sent; it never reached the server") \
	X(H1C_ECANCELED, -36, "request cancelled")                               \
	X(H1C_EQUEUEFULL, -37, "too many requests queued")                       \
	X(H1C_EMSNPNG, -38, "PNG is not used over the MSN HTTP gateway")         \
	X(H1C_EMSNSYNTAX, -39, "malformed MSNP command")                         \
	X(H1C_EMSNCLOSED, -40, "MSN gateway session is closed")                  \
	X(H1C_EMSNHTTP, -41, "MSN gateway answered with an HTTP error")          \
	X(H1C_EMSNSESSION, -42, "MSN gateway answer without an X-MSN-Messenger session") \
	X(H1C_EMSNPAYLOAD, -43, "MSNP payload longer than allowed")              \
	X(H1C_ESLOW, -44, "response arrived slower than the minimum rate")      \
	X(H1C_EBODYSIZE, -45, "response body larger than allowed")              \
	X(H1C_ETLS, -46, "TLS handshake or certificate verification failed")    \
	X(H1C_ENOFD, -47, "out of file descriptors, and none of the client's to free")

enum h1c_error {
#define H1C_ENUM_(name, num, msg) name = num,
	H1C_ERRORS(H1C_ENUM_)
#undef H1C_ENUM_
	H1C_ELAST_ = -48
};

/* Returns a static, human-readable description of an H1C_E* code. */
H1C_API const char *h1c_strerror(int code);

/* Returns the symbolic name of an H1C_E* code ("H1C_ECHUNKSIZE"), static. */
H1C_API const char *h1c_errname(int code);

/* Returns the library's version string, e.g. "0.1.0". */
H1C_API const char *h1c_version(void);

/*
 * Tolerances of sloppy servers, all off by default. A response accepted only
 * because of one of these is flagged H1C_RESP_LENIENT and its connection is
 * never reused.
 */
#define H1C_LENIENT_BARE_LF 0x01u        /* a lone LF ends a line */
#define H1C_LENIENT_SPACE_BEFORE_COLON 0x02u /* "Name : value" */
#define H1C_LENIENT_VALUE_CTL 0x04u      /* control bytes (not NUL/CR/LF) in values */
#define H1C_LENIENT_NO_REASON_SP 0x08u   /* "HTTP/1.1 200" with no SP after the code */
#define H1C_LENIENT_CHUNK_WS 0x10u       /* spaces/tabs after a chunk size */
#define H1C_LENIENT_ALL 0x1fu

/* Option flags. */
#define H1C_OPT_VIA_PROXY 0x01u      /* Proxy-Connection counts as Connection */
#define H1C_OPT_NO_BYTERANGES 0x02u  /* RFC 9112: multipart/byteranges does not delimit */

/* Defaults used when an option is 0. */
#define H1C_DEFAULT_MAX_HEAD_SIZE 65536u
#define H1C_DEFAULT_MAX_HEADERS 128u
#define H1C_DEFAULT_MAX_CHUNK_EXT 4096u
#define H1C_DEFAULT_MAX_TRAILER_SIZE 16384u
#define H1C_DEFAULT_MAX_INTERIM 16u

/*
 * How the structs here grow without breaking a program built against an
 * older header (the rule for every struct that crosses the boundary):
 *
 * - A struct the caller fills and the library reads (h1c_options,
 *   h1c_client_options, h1c_request, h1c_io, h1c_allocator,
 *   h1c_callbacks, h1c_loop, and the gateway's h1c_msngw_options and
 *   h1c_msngw_callbacks) starts with size_t size, its size as the caller
 *   knows it, which H1C_OPTIONS_INIT(type) sets (or .size =
 *   sizeof(struct type) in a designated initialiser). Fields are only
 *   ever added at the end. The library copies no more of the struct than
 *   its size says into a zeroed struct of its own, so a field the
 *   caller's size does not cover reads as 0 or NULL (its default). A size
 *   of 0, as in a zero-initialised struct, means the fields of version
 *   0.2, when the sizes came in. So: zero-initialise or use the init
 *   macro, then set what you need; a field added after 0.2 is read only
 *   when size covers it, which the macro (or size = sizeof) ensures.
 * - A struct the library writes into the caller's memory is told the
 *   caller's size by the call, never by the struct, which callers leave
 *   uninitialised: h1c_client_stats() takes sizeof its struct as an
 *   argument; h1c_client_fetch() writes the h1c_result of the header
 *   version the h1c_request's size belongs to (a program sets both from
 *   the same header), so a release that adds to h1c_result adds to
 *   h1c_request too. The library writes no more than that size.
 * - The other public structs keep their size until the soname changes:
 *   h1c_header and h1c_watch are array elements; h1c_response,
 *   h1c_framing and h1c_event are written whole by the parser layer;
 *   h1c_body and h1c_reader are state on the caller's stack, whose
 *   private part grows into the room reserved at their end (the reader
 *   keeps a copy of h1c_options, which may grow). abi/h1c.structs holds
 *   the size of every one, checked by make check.
 *
 * One rule for every limit and timeout: 0 means its default, -1 means
 * off (no limit, no timeout); any other negative value is refused.
 */
#define H1C_OPTIONS_INIT(type) {.size = sizeof(struct type)}

/*
 * Limits and tolerances of the parser and decoders. A NULL options pointer
 * means all defaults. The size limits take -1 ((size_t)-1, UINT_MAX) for no
 * limit, except max_headers, which sizes an array: it is at most 65536.
 */
struct h1c_options {
	size_t size;             /* sizeof(struct h1c_options), or 0 */
	size_t max_head_size;    /* status line + header section, bytes */
	size_t max_headers;      /* header (and trailer, part-header) fields */
	size_t max_chunk_ext;    /* bytes of chunk extensions on one chunk line */
	size_t max_trailer_size; /* trailer section and each part-header section */
	unsigned max_interim;    /* 1xx responses before a final one */
	unsigned lenient;        /* H1C_LENIENT_* bits */
	unsigned flags;          /* H1C_OPT_* bits */
};

/* A header field: views into the caller's buffer, value without OWS. */
struct h1c_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

#define H1C_RESP_LENIENT 0x01u /* accepted only through a tolerance */
#define H1C_RESP_FOLDED 0x02u  /* an obs-fold was replaced by spaces */

/* A parsed response head. All pointers are views into the caller's buffer. */
struct h1c_response {
	int version_minor;         /* 0 or 1; HTTP/1.2-1.9 give 2-9 */
	int status;                /* 100-999 */
	const char *reason;
	size_t reason_len;
	struct h1c_header *headers; /* the caller's array */
	size_t num_headers;
	unsigned flags;            /* H1C_RESP_* */
};

/*
 * Parses a response head (status line and header section) at the start of
 * buf[0..len). last_len is 0 on the first call; when a call returned
 * H1C_EINCOMPLETE, call again with more bytes appended and last_len set to
 * the len of that call, so bytes already checked are not scanned again:
 * they are parsed once the head is whole, or reaches the size limit, so a
 * fault in an unfinished head may show only then (call with last_len 0 to
 * check everything now, e.g. when the server has closed).
 *
 * buf is written to only to replace an obs-fold (CRLF + SP/HTAB) with
 * spaces, as RFC 9112 section 5.2 requires of user agents.
 *
 * Returns the length of the head (> 0), H1C_EINCOMPLETE, or an error.
 */
H1C_API int h1c_parse_response(char *buf, size_t len, size_t last_len,
                               struct h1c_response *resp,
                               struct h1c_header *headers, size_t headers_cap,
                               const struct h1c_options *opt);

/* Returns the first header named name (case-insensitive), or NULL. */
H1C_API const struct h1c_header *h1c_header_find(const struct h1c_header *headers,
                                                 size_t n, const char *name);

/*
 * Returns 1 when the comma-separated token list in every field named name
 * contains token (case-insensitive), else 0. For Connection, TE and the like.
 */
H1C_API int h1c_header_has_token(const struct h1c_header *headers, size_t n,
                                 const char *name, const char *token);

/*
 * Returns 1 when headers[i] is a hop-by-hop field (RFC 9110 section 7.6.1):
 * Connection, Proxy-Connection, Keep-Alive, TE, Trailer, Transfer-Encoding,
 * Upgrade, Proxy-Authenticate, Proxy-Authorization, or a field named in a
 * Connection (or Proxy-Connection) field of the same message; else 0.
 */
H1C_API int h1c_header_is_hop_by_hop(const struct h1c_header *headers, size_t n, size_t i);

/*
 * Removes the hop-by-hop fields from headers[0..n), keeping the order of
 * the rest, for a caller that forwards a message. Returns the new count.
 */
H1C_API size_t h1c_headers_strip_hop_by_hop(struct h1c_header *headers, size_t n);

enum h1c_framing_kind {
	H1C_FRAMING_NONE = 0,   /* no body */
	H1C_FRAMING_CHUNKED,    /* chunked transfer coding */
	H1C_FRAMING_LENGTH,     /* Content-Length bytes */
	H1C_FRAMING_BYTERANGES, /* self-delimiting multipart/byteranges */
	H1C_FRAMING_CLOSE       /* until the server closes */
};

/* Why a connection may not be reused, and other facts about a response. */
#define H1C_FRAMING_INTERIM 0x01u    /* 1xx other than 101: a final one follows */
#define H1C_FRAMING_SWITCHED 0x02u   /* 101, or 2xx to CONNECT: no more HTTP */
#define H1C_FRAMING_CLOSE_TOKEN 0x04u /* Connection: close (or 1.0 without keep-alive) */
#define H1C_FRAMING_TE_AND_CL 0x08u  /* both Transfer-Encoding and Content-Length */
#define H1C_FRAMING_TE_HTTP10 0x10u  /* Transfer-Encoding in an HTTP/1.0 response */
#define H1C_FRAMING_LENIENT 0x20u    /* the head needed a tolerance */

/* The message-length decision for one response (h1c_framing_decide()). */
struct h1c_framing {
	enum h1c_framing_kind kind;
	uint64_t content_length;  /* H1C_FRAMING_LENGTH only */
	const char *boundary;     /* H1C_FRAMING_BYTERANGES only: view */
	size_t boundary_len;
	int keep_alive;           /* 1: the connection may carry another request */
	unsigned flags;           /* H1C_FRAMING_* */
	long ka_timeout;          /* Keep-Alive: timeout=N, or -1 */
	long ka_max;              /* Keep-Alive: max=N, or -1 */
};

/*
 * Decides how the body of resp is delimited and whether the connection
 * stays usable, by RFC 2616 section 4.4 as hardened by RFC 9112 section 6.
 * method is the request method that resp answers (NUL-terminated).
 * Returns 0 or an error (H1C_ECONTENTLENGTH, H1C_ECLCONFLICT,
 * H1C_ETRANSFERENCODING, H1C_EBYTERANGES).
 */
H1C_API int h1c_framing_decide(const char *method, const struct h1c_response *resp,
                               const struct h1c_options *opt, struct h1c_framing *out);

/* Returns the name of a framing kind: "none", "chunked", ... */
H1C_API const char *h1c_framing_name(enum h1c_framing_kind kind);

/* What one call of h1c_body_decode() or h1c_reader_feed() produced. */
enum h1c_event_type {
	H1C_EV_NEED_MORE = 0, /* every usable byte consumed; feed more */
	H1C_EV_HEAD,          /* reader only: a response head (reader.resp/.framing) */
	H1C_EV_DATA,          /* data/len: body bytes */
	H1C_EV_TRAILERS,      /* fields/num_fields: the trailer section */
	H1C_EV_PART,          /* fields/num_fields: headers of byteranges part `part` */
	H1C_EV_DONE           /* the response ended; later bytes are the next one */
};

struct h1c_event {
	enum h1c_event_type type;
	const char *data;                /* DATA: view into the input */
	size_t len;
	const struct h1c_header *fields; /* TRAILERS, PART */
	size_t num_fields;
	unsigned part;                   /* byteranges: 1-based part number, else 0 */
	int64_t range_first;             /* PART: Content-Range first-byte, or -1 */
	int64_t range_last;              /* PART: last-byte, or -1 */
	int64_t range_complete;          /* PART: complete-length, or -1 ('*' or absent) */
};
/* A field is meaningful only for the event types its comment names. */

/*
 * An incremental body decoder. Public so that it can live on the caller's
 * stack; the fields are private. Set it up with h1c_body_init().
 */
struct h1c_body {
	/* private */
	int state_;
	int kind_;
	uint64_t remain_;
	size_t scanned_;
	size_t ext_len_;
	unsigned part_;
	unsigned digits_;
	unsigned lenient_;
	size_t boundary_len_;
	struct h1c_header *fields_;
	size_t fields_cap_;
	size_t max_fields_;
	size_t max_chunk_ext_;
	size_t max_section_;
	int part_sized_;
	uint64_t part_len_; /* after an int, so that where uint64_t is 8-aligned
	                       in 32 bits the size stays what it was */
	unsigned used_lenient_;
	char boundary_[76]; /* "\r\n--" + boundary (at most 70); byteranges
	                       only, last so that other bodies need not touch it */
	void *reserved_[4]; /* room for the private part to grow into: a field
	                       taken from here is set by h1c_body_init(), which
	                       does not clear the struct */
};

/*
 * Sets up dec to decode a body framed as f describes. fields/fields_cap is
 * the caller's array for trailer and part-header views (may be NULL/0: the
 * fields are then checked but not reported). Returns 0 or H1C_EINVAL.
 */
H1C_API int h1c_body_init(struct h1c_body *dec, const struct h1c_framing *f,
                          const struct h1c_options *opt,
                          struct h1c_header *fields, size_t fields_cap);

/*
 * Decodes from buf[0..len) and reports one event in *ev. Returns the number
 * of bytes consumed (>= 0) or an error. Bytes not consumed must be offered
 * again, with more appended, on the next call; views in *ev point into the
 * consumed bytes and stay valid while the caller keeps them. buf is written
 * to only to replace obs-folds in trailer or part-header fields.
 */
H1C_API int h1c_body_decode(struct h1c_body *dec, char *buf, size_t len,
                            struct h1c_event *ev);

/*
 * Tells dec that the server closed the connection. Returns 0 when the body
 * is complete (close-delimited, or already done), H1C_ETRUNCATED otherwise.
 */
H1C_API int h1c_body_eof(struct h1c_body *dec);

/*
 * Returns 1 when the decoder used a tolerance (H1C_LENIENT_*) on the body,
 * so the connection must not be reused, else 0.
 */
H1C_API int h1c_body_lenient(const struct h1c_body *dec);

/*
 * A response-stream reader: the head parser, the framing decision and the
 * body decoder joined into one sans-I/O state machine, for the bytes one
 * server sends on one connection. Public so that it can live on the
 * caller's stack; fields ending in _ are private. After an H1C_EV_HEAD event
 * `resp` and `framing` describe the response until the next head.
 */
struct h1c_reader {
	struct h1c_response resp;
	struct h1c_framing framing;
	/* private */
	int state_;
	size_t last_len_;
	unsigned interim_;
	int tainted_;
	struct h1c_options opt_;
	struct h1c_header *headers_;
	size_t headers_cap_;
	struct h1c_body body_;
	void *reserved_[8]; /* room for the private part (opt_ with it) to
	                       grow into */
};

/*
 * Sets up r. headers/headers_cap is the caller's array for header views:
 * the head's fields fill it from the start, and the trailers and part
 * headers use the entries left after them, so the head's views stay valid
 * through the body (an array of twice opt->max_headers always suffices).
 * Returns 0 or H1C_EINVAL.
 */
H1C_API int h1c_reader_init(struct h1c_reader *r, const struct h1c_options *opt,
                            struct h1c_header *headers, size_t headers_cap);

/*
 * Feeds buf[0..len), the unconsumed bytes the server sent, and reports one
 * event. method is the method of the request the next response answers,
 * read only when a head is parsed. Returns the bytes consumed (>= 0) or an
 * error; unconsumed bytes must be offered again with more appended.
 * After H1C_EV_DONE for a final response whose framing.keep_alive is 0
 * (close-delimited, Connection: close, 101, a hardening case), later bytes
 * belong to no response: feeding any returns H1C_EEXTRADATA (or
 * H1C_ESWITCHED after 101 or a CONNECT tunnel).
 */
H1C_API int h1c_reader_feed(struct h1c_reader *r, char *buf, size_t len,
                            const char *method, struct h1c_event *ev);

/*
 * Tells r that the server closed the connection. buf[0..len) are the bytes
 * fed but not consumed (the start of an unfinished head, say); a head cut
 * short is parsed in full so that a fault in it is reported rather than the
 * truncation. Returns 0 with H1C_EV_DONE (a close-delimited body ended) or
 * H1C_EV_NEED_MORE (the stream ended cleanly between responses), or an
 * error: H1C_ETRUNCATED, or the fault found in an unfinished head.
 */
H1C_API int h1c_reader_eof(struct h1c_reader *r, char *buf, size_t len,
                           struct h1c_event *ev);

/* ---- transport ----------------------------------------------------------- */

/*
 * The I/O vtable: how the client reads and writes a connection, so a caller
 * can put TLS (or any stream) between h1c and the socket. open() wraps a
 * connected, non-blocking socket and returns a context (NULL with *err set
 * on failure); read() and write() return a byte count, 0 for end of stream
 * (read only), H1C_EWANTREAD / H1C_EWANTWRITE to be called again when the
 * descriptor fd() is ready, or another negative H1C_E* code; close() closes
 * the stream and the socket. name identifies the vtable: connections made
 * through different vtables are never shared.
 */
struct h1c_io {
	size_t size; /* sizeof(struct h1c_io), or 0; see H1C_OPTIONS_INIT */
	const char *name;
	void *(*open)(void *user, int fd, const char *host, int *err);
	long (*read)(void *ctx, void *buf, size_t len);
	long (*write)(void *ctx, const void *buf, size_t len);
	int (*fd)(void *ctx);
	void (*close)(void *ctx);
};

/* The plain-socket vtable, used when a client is given none. */
H1C_API const struct h1c_io *h1c_io_plain(void);

/* ---- the client ----------------------------------------------------------- */

/*
 * Allocator hooks: every allocation of a client and its connections goes
 * through them (name resolution inside libc and the I/O vtable's own
 * allocations excepted). user is passed back to each hook.
 */
struct h1c_allocator {
	size_t size; /* sizeof(struct h1c_allocator), or 0 */
	void *(*malloc)(void *user, size_t size);
	void *(*realloc)(void *user, void *ptr, size_t size);
	void (*free)(void *user, void *ptr);
	void *user;
};

/* Defaults used when a client option is 0. */
#define H1C_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define H1C_DEFAULT_HEAD_TIMEOUT_MS 30000
#define H1C_DEFAULT_IDLE_TIMEOUT_MS 30000
#define H1C_DEFAULT_MIN_RATE 1             /* bytes per second */
#define H1C_DEFAULT_RATE_WINDOW_MS 30000
#define H1C_DEFAULT_KEEPALIVE_MS 60000
#define H1C_DEFAULT_EXPECT_TIMEOUT_MS 1000
#define H1C_DEFAULT_MAX_PER_ORIGIN 6
#define H1C_DEFAULT_MAX_CONNECTIONS 256
#define H1C_DEFAULT_MAX_QUEUED 65536
#define H1C_DEFAULT_MAX_REPLAYS 3
#define H1C_DEFAULT_PIPELINE_BACKOFF_MS 60000
#define H1C_MAX_PIPELINE 64 /* the deepest pipeline a connection carries */
#define H1C_DEFAULT_MAX_BODY (64ll << 20) /* bodies h1c_client_fetch() keeps: 64 MiB */

/* Client flags. */
#define H1C_CLIENT_PIPELINE_HEAD 0x01u /* allow requests behind a HEAD */
#define H1C_CLIENT_NO_REPLAY 0x02u     /* never re-send anything */

struct h1c_client_options {
	size_t size;               /* sizeof(struct h1c_client_options), or 0 */
	const struct h1c_options *parse; /* limits and tolerances for
	                              responses (copied); NULL: defaults */
	const char *proxy;         /* "host:port" of a forward proxy, or NULL */
	/* Timeouts: 0 the default, -1 none. */
	int connect_timeout_ms;    /* per connection, all addresses */
	int head_timeout_ms;       /* request sent to response head */
	int idle_timeout_ms;       /* longest silence while a response arrives */
	int keepalive_ms;          /* longest an idle connection is kept */
	size_t expect_threshold;   /* bodies this large or larger send
	                              "Expect: 100-continue"; 0: never */
	int expect_timeout_ms;     /* wait for 100 before sending anyway */
	const struct h1c_io *io;   /* NULL: h1c_io_plain() */
	void *io_user;             /* passed to io->open() */
	/* Pools and pipelining (0: the default; -1, that is UINT_MAX: no
	 * limit). */
	unsigned max_per_origin;   /* connections per origin */
	unsigned max_connections;  /* connections in total */
	unsigned max_queued;       /* requests waiting for a connection */
	unsigned pipeline_depth;   /* requests in flight per connection;
	                              0 or 1: no pipelining */
	unsigned max_replays;      /* re-sends of one request; see
	                              H1C_CLIENT_NO_REPLAY for none */
	int pipeline_backoff_ms;   /* no pipelining to an origin this long
	                              after it broke a pipeline */
	unsigned flags;            /* H1C_CLIENT_* */
	const struct h1c_allocator *alloc; /* NULL: malloc, realloc, free */
	/* From a final response head to its end (body, chunk framing and
	 * trailers), at least min_rate bytes per second must arrive in every
	 * window of rate_window_ms, or the request ends with H1C_ESLOW:
	 * what cuts off a server trickling bytes just often enough to beat
	 * idle_timeout_ms. min_rate 0: the default, -1: no minimum. */
	int min_rate;
	int rate_window_ms;
	/* https:// URLs go through this vtable (NULL: they are refused with
	 * H1C_EURL; the library has no TLS of its own), opened with tls_user;
	 * see examples/tls-openssl.c. Not through a proxy (no CONNECT yet). */
	const struct h1c_io *tls_io;
	void *tls_user;
	/* The largest body h1c_client_fetch() keeps in memory (a request
	 * with its own on_data streams and has no limit unless it sets
	 * one): 0: H1C_DEFAULT_MAX_BODY, -1: no limit. A larger body ends
	 * the request with H1C_EBODYSIZE. */
	long long max_body;
};

/* Request flags. */
#define H1C_REQ_IDEMPOTENT 0x01u /* may be re-sent or pipelined even if the
                                    method is not idempotent */
#define H1C_REQ_CLOSE 0x02u      /* ask the server to close after this one */
#define H1C_REQ_NO_EXPECT 0x04u  /* never send Expect: 100-continue */

struct h1c_result;

/*
 * One request. Zero-initialise, then set what you need. The method, URL
 * and header fields are copied when the request is made; the body (memory
 * or callback) must stay valid until the request ends.
 */
struct h1c_request {
	size_t size;                      /* sizeof(struct h1c_request), or 0 */
	const char *method;               /* NULL: "GET" */
	const char *url;                  /* "http://host[:port]/path?query" */
	const struct h1c_header *headers; /* extra fields; Host may be given */
	size_t num_headers;
	const void *body;                 /* body in memory ... */
	size_t body_len;
	/* ... or from a callback: fills buf, returns bytes (0 at the end) or a
	 * negative value to abort; body_size is its length, or -1 (chunked). */
	long (*body_read)(void *user, void *buf, size_t len);
	void *body_user;
	long long body_size;
	/* Returns 0 when body_read will produce the body again from its start;
	 * without it a callback body is never re-sent. */
	int (*body_rewind)(void *user);
	unsigned flags;                   /* H1C_REQ_* */
	int timeout_ms;                   /* whole request, queue included;
	                                     0: none */
	/* For h1c_client_fetch(): called when the final response head has
	 * arrived (res has status, reason and headers; no body yet): return 0
	 * to go on, nonzero to stop (the request ends with H1C_ECALLBACK). */
	int (*on_head)(void *user, const struct h1c_result *res);
	/* For h1c_client_fetch(): streams the body instead of keeping it. */
	int (*on_data)(void *user, const char *data, size_t len);
	void *data_user; /* passed to on_head and on_data */
	/* The largest response body this request accepts, in bytes: past it
	 * the request ends at once with H1C_EBODYSIZE and its connection is
	 * closed (a Content-Length over it ends the request before any of
	 * the body is read; other bodies end as the bytes pass it, none of
	 * the excess delivered). 0: none for a streamed body, the client's
	 * max_body for one h1c_client_fetch() keeps; -1: no limit. */
	long long max_body;
};

/* How a request went, passed to on_done (bits). */
#define H1C_DONE_REUSED 0x01u    /* sent on a connection that carried others */
#define H1C_DONE_REPLAYED 0x02u  /* re-sent after a connection was lost */
#define H1C_DONE_PIPELINED 0x04u /* sent while another was in flight */

/*
 * What an asynchronous request reports. Every member may be NULL. Views
 * passed in are valid during the call only. on_head, on_data and
 * on_trailers return 0 to go on, nonzero to stop: the request then ends
 * with H1C_ECALLBACK and its connection is closed.
 */
struct h1c_callbacks {
	size_t size; /* sizeof(struct h1c_callbacks), or 0 */
	/* An interim (1xx) response arrived. */
	int (*on_interim)(void *user, const struct h1c_response *resp);
	/* The final response head arrived. */
	int (*on_head)(void *user, const struct h1c_response *resp);
	/* Body bytes, in order, as they arrive (decoded from chunks). */
	int (*on_data)(void *user, const char *data, size_t len);
	/* The trailer section of a chunked body. */
	int (*on_trailers)(void *user, const struct h1c_header *fields, size_t n);
	/* The end, exactly once per request: err is 0 when the whole response
	 * arrived, else a negative H1C_E* code. flags: H1C_DONE_*. */
	void (*on_done)(void *user, int err, unsigned flags);
};

/* A response, owned by the caller until h1c_result_free(). Its size is
 * told by the request it answers (see H1C_OPTIONS_INIT), so it has none
 * of its own to set. */
struct h1c_result {
	int status;
	int version_minor;
	const char *reason;
	size_t reason_len;
	struct h1c_header *headers; /* views into an owned copy of the head */
	size_t num_headers;
	struct h1c_header *trailers;
	size_t num_trailers;
	char *body;                 /* NUL-terminated; NULL when streamed */
	size_t body_len;
	int reused;                 /* sent on a kept-alive connection */
	int replayed;               /* re-sent after a connection was lost */
	/* private */
	size_t size_;               /* the bytes of it the library filled */
	char *head_;
	char *trail_;
	struct h1c_allocator alloc_; /* a copy: a result outlives its client */
};

/* Counters of a client's life (h1c_client_stats(), which is given its
 * size). */
struct h1c_stats {
	unsigned long requests, responses, errors;
	unsigned long connections_opened, connections_reused, replayed;
	unsigned long pipelined;        /* sent while another was in flight on
	                                   the same connection */
	unsigned long max_in_flight;    /* most requests in flight on one
	                                   connection */
	unsigned long connections_failed; /* lost with requests in flight */
	unsigned long pipeline_fallbacks; /* origins put off pipelining */
	unsigned long stale_closed;     /* idle connections found readable */
};

struct h1c_client;

/* Creates a client; opt may be NULL. Returns NULL when out of memory or
 * when an option is invalid (a malformed proxy, a timeout below -1). */
H1C_API struct h1c_client *h1c_client_new(const struct h1c_client_options *opt);

/* h1c_client_new(), saying why it failed: *err (when err is not NULL) is
 * 0 with a client, else H1C_ENOMEM, or H1C_EINVAL for an invalid option
 * (a malformed proxy, a value below -1 where -1 means off). */
H1C_API struct h1c_client *h1c_client_create(const struct h1c_client_options *opt, int *err);

/*
 * Ends every request still pending with H1C_ECANCELED (their on_done is
 * called), closes every connection and frees c. NULL is a no-op. From a
 * callback, c is freed when the outermost call into the client returns
 * (and no request is accepted meanwhile); c must not be used after that.
 */
H1C_API void h1c_client_free(struct h1c_client *c);

/*
 * Queues a request and returns at once. Returns its id (>= 1), by which it
 * can be cancelled, or a negative H1C_E* code, in which case no callback
 * is ever called for it. Otherwise cb->on_done is called exactly once.
 * Callbacks run only inside h1c_client_run(), h1c_client_on_ready(),
 * h1c_client_on_timeout(), h1c_client_cancel() and h1c_client_free().
 */
H1C_API long long h1c_client_request(struct h1c_client *c, const struct h1c_request *req,
                                     const struct h1c_callbacks *cb, void *user);

/*
 * Cancels request id: it ends with H1C_ECANCELED. A request already on a
 * connection takes that connection down with it (HTTP/1.1 cannot abandon
 * one response); the requests behind it are re-sent or ended as when a
 * connection is lost. Returns 0, or H1C_EINVAL when id is not pending.
 * From a callback the cancellation is done when the callback returns.
 */
H1C_API int h1c_client_cancel(struct h1c_client *c, long long id);

/*
 * Drives every request with poll(2) until none is pending or timeout_ms
 * has passed (-1: no limit; 0: one pass that does not wait). Returns the
 * number of requests still pending, or a negative H1C_E* code when poll
 * fails.
 */
H1C_API int h1c_client_run(struct h1c_client *c, int timeout_ms);

/* ---- an outside event loop --------------------------------------------------- */

#define H1C_READ 0x01u  /* watch for readability (and hangup, errors) */
#define H1C_WRITE 0x02u /* watch for writability */

/* One socket the client wants watched. */
struct h1c_watch {
	int fd;
	unsigned events; /* H1C_READ | H1C_WRITE */
};

/*
 * Fills w[0..max) with the sockets to watch now and returns how many there
 * are in all (which may be more than max: call again with more room).
 */
H1C_API size_t h1c_client_watches(const struct h1c_client *c, struct h1c_watch *w,
                                  size_t max);

/* Returns the milliseconds until the client's next deadline, 0 when one
 * has passed, or -1 when there is none. */
H1C_API int h1c_client_timeout(const struct h1c_client *c);

/*
 * Tells the client that fd is ready for events (H1C_READ, H1C_WRITE; a
 * hangup or error counts as both). A descriptor the client does not know
 * is ignored. Returns the number of requests still pending.
 */
H1C_API int h1c_client_on_ready(struct h1c_client *c, int fd, unsigned events);

/* Tells the client that its deadline (h1c_client_timeout()) has come: it
 * expires what is due. Calling it early is harmless. Returns the number of
 * requests still pending. */
H1C_API int h1c_client_on_timeout(struct h1c_client *c);

/*
 * Hooks through which the client tells an outside loop what to watch, as
 * it changes (the alternative to polling h1c_client_watches()):
 * watch(user, fd, events, slot) - watch fd for events from now on; events
 *   0 means stop: the descriptor is about to be closed. *slot is a pointer
 *   kept for the loop per descriptor (NULL at first), for its own record.
 * timer(user, ms) - call h1c_client_on_timeout() in ms milliseconds (-1:
 *   no deadline); replaces the previous timer.
 * Hooks are called from inside the client's functions; they must not call
 * back into the client.
 */
struct h1c_loop {
	size_t size; /* sizeof(struct h1c_loop), or 0 */
	void (*watch)(void *user, int fd, unsigned events, void **slot);
	void (*timer)(void *user, int ms);
	void *user;
};

/* Installs loop hooks (copied) and reports every current socket and the
 * deadline through them; NULL removes them. Hooks being replaced are first
 * told to drop every socket (events 0) and the timer (-1). */
H1C_API void h1c_client_set_loop(struct h1c_client *c, const struct h1c_loop *loop);

/* ---- the blocking call -------------------------------------------------------- */

/*
 * Performs one request and waits for the whole response, driving the client
 * (other pending requests progress too). Returns 0 with *res filled (any
 * status code), or a negative H1C_E* code with *res empty. Connections are
 * kept alive and reused between calls. Must not be called from a callback.
 * *res needs no initialising: the library writes the struct h1c_result of
 * the header version req->size belongs to, and no more (see
 * H1C_OPTIONS_INIT).
 */
H1C_API int h1c_client_fetch(struct h1c_client *c, const struct h1c_request *req,
                             struct h1c_result *res);

/* Frees what a result owns and empties it. NULL is a no-op. */
H1C_API void h1c_result_free(struct h1c_result *res);

/* Copies the counters of c into st, which is size bytes long: pass
 * sizeof(*st). The library writes at most size bytes (a program built
 * against an older, smaller struct gets the counters it knows), and
 * zeroes what it has no counter for. st needs no initialising. */
H1C_API void h1c_client_stats(const struct h1c_client *c, struct h1c_stats *st,
                              size_t size);

#ifdef __cplusplus
}
#endif

#endif /* H1C_H */
