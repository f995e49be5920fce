/*
 * test_conformance.c - byte-exact responses, well-formed and hostile, each
 * fed whole, byte by byte, at every two-way split and at random splits,
 * every time ending at a guard page; all must give the same transcript.
 * Transcript format: see transcript() in testutil.h.
 */
#include "testutil.h"

struct tcase {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
	const char *methods[6];
	struct h1c_options opt;
};

#define S(x) x, sizeof(x) - 1
#define M(...) { __VA_ARGS__, NULL }
#define OPT(...) { __VA_ARGS__ }
#define OK200 "HTTP/1.1 200 OK\r\n"
#define CHUNKED OK200 "Transfer-Encoding: chunked\r\n\r\n"

static const struct tcase cases[] = {
	/* ---- well-formed --------------------------------------------------- */
	{"length", S(OK200 "Content-Length: 5\r\n\r\nhello"),
	 "[200 v1.1 length body=hello ka=1]", M(NULL), OPT(0)},
	{"length zero", S(OK200 "Content-Length: 0\r\n\r\n"),
	 "[200 v1.1 length body= ka=1]", M(NULL), OPT(0)},
	{"length with OWS", S(OK200 "Content-Length: \t 7 \t\r\n\r\n1234567"),
	 "[200 v1.1 length body=1234567 ka=1]", M(NULL), OPT(0)},
	{"length equal list", S(OK200 "Content-Length: 3, 3\r\n\r\nabc"),
	 "[200 v1.1 length body=abc ka=1]", M(NULL), OPT(0)},
	{"length equal fields", S(OK200 "Content-Length: 3\r\ncontent-length: 003\r\n\r\nabc"),
	 "[200 v1.1 length body=abc ka=1]", M(NULL), OPT(0)},
	{"length list with empty element", S(OK200 "Content-Length: 2,,2\r\n\r\nab"),
	 "[200 v1.1 length body=ab ka=1]", M(NULL), OPT(0)},
	{"chunked with trailers", S(CHUNKED "5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\nY: two\r\n\r\n"),
	 "[200 v1.1 chunked body=hello world T(X-T=1,Y=two) ka=1]", M(NULL), OPT(0)},
	{"chunked extensions", S(CHUNKED "3;a=b;c=\"x;\\\"y\" ; d\r\nabc\r\n0;last\r\n\r\n"),
	 "[200 v1.1 chunked body=abc ka=1]", M(NULL), OPT(0)},
	{"chunked hex and zeros", S(CHUNKED "000A\r\n0123456789\r\nb\r\nhello world\r\n0000\r\n\r\n"),
	 "[200 v1.1 chunked body=0123456789hello world ka=1]", M(NULL), OPT(0)},
	{"chunked binary data", S(CHUNKED "4\r\n\r\n\0\xff\r\n0\r\n\r\n"),
	 "[200 v1.1 chunked body=\\x0d\\x0a\\x00\\xff ka=1]", M(NULL), OPT(0)},
	{"chunked not final is close", S(OK200 "Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc"),
	 "[200 v1.1 close body=3\\x0d\\x0aabc ka=0]", M(NULL), OPT(0)},
	{"gzip then chunked", S(OK200 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"),
	 "[200 v1.1 chunked body=z ka=1]", M(NULL), OPT(0)},
	{"chunked with parameter", S(OK200 "Transfer-Encoding: chunked ;foo=bar\r\n\r\n0\r\n\r\n"),
	 "[200 v1.1 chunked body= ka=1]", M(NULL), OPT(0)},
	{"lone identity is no coding", S(OK200 "Transfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok"),
	 "[200 v1.1 length body=ok ka=0]", M(NULL), OPT(0)},
	{"close delimited", S(OK200 "Server: x\r\n\r\nabc\r\ndef"),
	 "[200 v1.1 close body=abc\\x0d\\x0adef ka=0]", M(NULL), OPT(0)},
	{"close delimited empty", S(OK200 "\r\n"),
	 "[200 v1.1 close body= ka=0]", M(NULL), OPT(0)},
	{"http/1.0 keep-alive", S("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi"),
	 "[200 v1.0 length body=hi ka=1]", M(NULL), OPT(0)},
	{"http/1.0 default close", S("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
	 "[200 v1.0 length body=hi ka=0]", M(NULL), OPT(0)},
	{"http/1.2 read as 1.1", S("HTTP/1.2 200 OK\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.2 length body=x ka=1]", M(NULL), OPT(0)},
	{"connection close in a list", S(OK200 "Connection: foo\r\nConnection: bar , CLOSE\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.1 length body=x ka=0]", M(NULL), OPT(0)},
	{"proxy-connection ignored from origin", S("HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.0 length body=x ka=0]", M(NULL), OPT(0)},
	{"proxy-connection via proxy", S("HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.0 length body=x ka=1]", M(NULL), OPT(.flags = H1C_OPT_VIA_PROXY)},
	{"proxy-connection close via proxy", S(OK200 "Proxy-Connection: close\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.1 length body=x ka=0]", M(NULL), OPT(.flags = H1C_OPT_VIA_PROXY)},
	{"empty reason", S("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"),
	 "[200 v1.1 length body= ka=1]", M(NULL), OPT(0)},
	{"obs-text and tab in values", S(OK200 "X: caf\xc3\xa9\tbar\r\nContent-Length: 0\r\n\r\n"),
	 "[200 v1.1 length body= ka=1]", M(NULL), OPT(0)},
	{"obs-fold in other field", S(OK200 "X-Long: a\r\n  b\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.1 length body=x ka=1]", M(NULL), OPT(0)},
	{"pipelined head 204 304 1xx", S(OK200 "Content-Length: 10\r\n\r\n"
	                                 "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n"
	                                 "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
	                                 "HTTP/1.1 100 Continue\r\n\r\n"
	                                 "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	                                 OK200 "Content-Length: 2\r\n\r\nok"
	                                 OK200 "Transfer-Encoding: chunked\r\n\r\n1\r\n!\r\n0\r\n\r\n"),
	 "[200 v1.1 none body= ka=1][204 v1.1 none body= ka=1][304 v1.1 none body= ka=1]"
	 "[100 v1.1 none body= ka=1][103 v1.1 none body= ka=1][200 v1.1 length body=ok ka=1]"
	 "[200 v1.1 chunked body=! ka=1]",
	 M("HEAD", "GET", "GET", "POST", "GET"), OPT(0)},
	{"pipelined then clean eof", S(OK200 "Content-Length: 1\r\n\r\na" OK200 "Content-Length: 1\r\n\r\nb"),
	 "[200 v1.1 length body=a ka=1][200 v1.1 length body=b ka=1]", M(NULL), OPT(0)},
	{"101 switching protocols", S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"),
	 "[101 v1.1 none body= ka=0]!H1C_ESWITCHED", M(NULL), OPT(0)},
	{"connect tunnel", S("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"),
	 "[200 v1.1 none body= ka=0]!H1C_ESWITCHED", M("CONNECT"), OPT(0)},
	{"connect refused has a body", S("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno"),
	 "[407 v1.1 length body=no ka=1]", M("CONNECT"), OPT(0)},
	{"byteranges", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=SEP\r\n\r\n"
	                 "--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/20\r\n\r\nhello\r\n"
	                 "--SEP\r\nContent-Range: bytes 10-14/20\r\n\r\nworld\r\n"
	                 "--SEP--\r\n"),
	 "[206 v1.1 byteranges body= P(Content-Type=text/plain,Content-Range=bytes 0-4/20)1:hello"
	 " P(Content-Range=bytes 10-14/20)2:world ka=1]", M(NULL), OPT(0)},
	{"byteranges quoted boundary preamble unsized parts", S("HTTP/1.1 206 Partial Content\r\n"
	                 "Content-Type: Multipart/ByteRanges ; Boundary=\"a b:c\"\r\n\r\n"
	                 "preamble line\r\n--a b:c  \r\n\r\nx\r\n--a b\r\n--a b:c\r\nX: 1\r\n\r\n\r\n\r\n--a b:c-- \r\n"
	                 OK200 "Content-Length: 1\r\n\r\nz"),
	 "[206 v1.1 byteranges body= P()1:x\\x0d\\x0a--a b P(X=1)2:\\x0d\\x0a ka=1][200 v1.1 length body=z ka=1]",
	 M(NULL), OPT(0)},
	{"byteranges off is close", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n--B--\r\n"),
	 "[206 v1.1 close body=--B--\\x0d\\x0a ka=0]", M(NULL), OPT(.flags = H1C_OPT_NO_BYTERANGES)},
	{"byteranges ends at close delimiter without CRLF at eof", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n--B\r\n\r\nx\r\n--B--"),
	 "[206 v1.1 byteranges body= P()1:x ka=1]", M(NULL), OPT(0)},
	{"length beats byteranges", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\nContent-Length: 3\r\n\r\nabc"),
	 "[206 v1.1 length body=abc ka=1]", M(NULL), OPT(0)},
	{"lenient bare LF", S("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi"),
	 "[200 v1.1 length body=hi ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_BARE_LF)},
	{"lenient bare LF in chunks", S(OK200 "Transfer-Encoding: chunked\r\n\r\n2\nhi\n0\n\n"),
	 "[200 v1.1 chunked body=hi ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_BARE_LF)},
	{"lenient no reason SP", S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"),
	 "[200 v1.1 length body= ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_NO_REASON_SP)},
	{"lenient space before colon", S(OK200 "Content-Length : 1\r\n\r\nx"),
	 "[200 v1.1 length body=x ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_SPACE_BEFORE_COLON)},
	{"lenient value control byte", S(OK200 "X: a\x01z\r\nContent-Length: 1\r\n\r\nx"),
	 "[200 v1.1 length body=x ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_VALUE_CTL)},
	{"lenient chunk size spaces", S(CHUNKED "1  \r\nx\r\n0\r\n\r\n"),
	 "[200 v1.1 chunked body=x ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_CHUNK_WS)},
	{"lenient interim taints final", S("HTTP/1.1 100\r\n\r\n" OK200 "Content-Length: 0\r\n\r\n"),
	 "[100 v1.1 none body= ka=0][200 v1.1 length body= ka=0]", M(NULL), OPT(.lenient = H1C_LENIENT_NO_REASON_SP)},
	{"empty stream", S(""), "", M(NULL), OPT(0)},

	/* ---- hostile: Content-Length --------------------------------------- */
	{"cl conflicting fields", S(OK200 "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
	 "!H1C_ECLCONFLICT", M(NULL), OPT(0)},
	{"cl conflicting list", S(OK200 "Content-Length: 5, 6\r\n\r\nhello!"),
	 "!H1C_ECLCONFLICT", M(NULL), OPT(0)},
	{"cl negative", S(OK200 "Content-Length: -5\r\n\r\n"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl plus sign", S(OK200 "Content-Length: +5\r\n\r\nhello"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl empty", S(OK200 "Content-Length: \r\n\r\n"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl only commas", S(OK200 "Content-Length: , ,\r\n\r\n"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl trailing garbage", S(OK200 "Content-Length: 5a\r\n\r\nhello"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl hex", S(OK200 "Content-Length: 0x10\r\n\r\n"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl inner space", S(OK200 "Content-Length: 5 5\r\n\r\nhello"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl decimal point", S(OK200 "Content-Length: 1.5\r\n\r\nx"), "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl overflows 64 bits", S(OK200 "Content-Length: 18446744073709551616\r\n\r\n"),
	 "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl huge overflow", S(OK200 "Content-Length: 99999999999999999999999999\r\n\r\n"),
	 "!H1C_ECONTENTLENGTH", M(NULL), OPT(0)},
	{"cl folded", S(OK200 "Content-Length: 5\r\n 5\r\n\r\nhello"), "!H1C_EOBSFOLD", M(NULL), OPT(0)},
	{"cl space before colon", S(OK200 "Content-Length : 5\r\n\r\nhello"), "!H1C_EHEADER", M(NULL), OPT(0)},

	/* ---- hostile: Transfer-Encoding, smuggling ------------------------- */
	{"te chunked twice in a list", S(OK200 "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
	 "!H1C_ETRANSFERENCODING", M(NULL), OPT(0)},
	{"te chunked twice in fields", S(OK200 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	 "!H1C_ETRANSFERENCODING", M(NULL), OPT(0)},
	{"te empty", S(OK200 "Transfer-Encoding: \r\n\r\n"), "!H1C_ETRANSFERENCODING", M(NULL), OPT(0)},
	{"te split token", S(OK200 "Transfer-Encoding: chun ked\r\n\r\n"), "!H1C_ETRANSFERENCODING", M(NULL), OPT(0)},
	{"te quote in token", S(OK200 "Transfer-Encoding: \"chunked\"\r\n\r\n"), "!H1C_ETRANSFERENCODING", M(NULL), OPT(0)},
	{"te folded", S(OK200 "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n"), "!H1C_EOBSFOLD", M(NULL), OPT(0)},
	{"te vertical tab", S(OK200 "Transfer-Encoding: \x0b" "chunked\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"te space before colon", S(OK200 "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"te and cl smuggling", S(OK200 "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n"
	                          OK200 "Content-Length: 7\r\n\r\nsmuggle"),
	 "[200 v1.1 chunked body= ka=0]!H1C_EEXTRADATA", M(NULL), OPT(0)},
	{"te in http/1.0", S("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
	                     OK200 "Content-Length: 0\r\n\r\n"),
	 "[200 v1.0 chunked body=a ka=0]!H1C_EEXTRADATA", M(NULL), OPT(0)},
	{"connection folded", S(OK200 "Connection: keep-alive,\r\n close\r\nContent-Length: 0\r\n\r\n"),
	 "!H1C_EOBSFOLD", M(NULL), OPT(0)},
	{"bytes after close", S(OK200 "Connection: close\r\nContent-Length: 1\r\n\r\nx" OK200 "Content-Length: 0\r\n\r\n"),
	 "[200 v1.1 length body=x ka=0]!H1C_EEXTRADATA", M(NULL), OPT(0)},
	{"body sent for HEAD shifts stream", S(OK200 "Content-Length: 5\r\n\r\nhello" OK200 "Content-Length: 0\r\n\r\n"),
	 "[200 v1.1 none body= ka=1]!H1C_EVERSION", M("HEAD"), OPT(0)},
	{"body sent with 204", S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"),
	 "[204 v1.1 none body= ka=1]!H1C_EVERSION", M(NULL), OPT(0)},
	{"body sent with 100", S("HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nhi"),
	 "[100 v1.1 none body= ka=1]!H1C_EVERSION", M(NULL), OPT(0)},
	{"too many interim", S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"),
	 "[100 v1.1 none body= ka=1][100 v1.1 none body= ka=1]!H1C_EINTERIM", M(NULL), OPT(.max_interim = 2)},

	/* ---- hostile: chunked ---------------------------------------------- */
	{"chunk size overflow", S(CHUNKED "10000000000000000\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size many digits", S(CHUNKED "00000000000000000000000000000000000000000000000000000000000000001\r\nx\r\n0\r\n\r\n"),
	 "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size negative", S(CHUNKED "-1\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size 0x prefix", S(CHUNKED "0x5\r\nhello\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size empty", S(CHUNKED "\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size leading space", S(CHUNKED " 5\r\nhello\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size trailing space", S(CHUNKED "5 \r\nhello\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKSIZE", M(NULL), OPT(0)},
	{"chunk size bare LF", S(CHUNKED "5\nhello\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ELINEEND", M(NULL), OPT(0)},
	{"chunk size bare CR", S(CHUNKED "5\rhello\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ELINEEND", M(NULL), OPT(0)},
	{"chunk data too long", S(CHUNKED "5\r\nhelloX\r\n0\r\n\r\n"), "[200 v1.1 chunked body=hello!H1C_ECHUNKDATA", M(NULL), OPT(0)},
	{"chunk data LF only", S(CHUNKED "5\r\nhello\n0\r\n\r\n"), "[200 v1.1 chunked body=hello!H1C_ECHUNKDATA", M(NULL), OPT(0)},
	{"chunk data CR only", S(CHUNKED "5\r\nhello\r0\r\n\r\n"), "[200 v1.1 chunked body=hello!H1C_ECHUNKDATA", M(NULL), OPT(0)},
	{"chunk ext too long", S(CHUNKED "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"),
	 "[200 v1.1 chunked body=!H1C_ECHUNKEXT", M(NULL), OPT(.max_chunk_ext = 16)},
	{"chunk ext control byte", S(CHUNKED "1;a\x01\r\nx\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKEXT", M(NULL), OPT(0)},
	{"chunk ext CR in quotes", S(CHUNKED "1;a=\"b\r\nx\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKEXT", M(NULL), OPT(0)},
	{"chunk ext no name", S(CHUNKED "1;=x\r\nx\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKEXT", M(NULL), OPT(0)},
	{"chunk ext bad value", S(CHUNKED "1;a=@\r\nx\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKEXT", M(NULL), OPT(0)},
	{"chunk ext text after quoted", S(CHUNKED "1;a=\"b\"c\r\nx\r\n0\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ECHUNKEXT", M(NULL), OPT(0)},
	{"trailer too large", S(CHUNKED "0\r\nX-Big: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
	 "[200 v1.1 chunked body=!H1C_ETRAILERSIZE", M(NULL), OPT(.max_trailer_size = 32)},
	{"trailer endless", S(CHUNKED "0\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	 "[200 v1.1 chunked body=!H1C_ETRAILERSIZE", M(NULL), OPT(.max_trailer_size = 32)},
	{"trailer malformed", S(CHUNKED "0\r\nBad Trailer\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ETRAILER", M(NULL), OPT(0)},
	{"trailer NUL", S(CHUNKED "0\r\nX: a\0b\r\n\r\n"), "[200 v1.1 chunked body=!H1C_ETRAILER", M(NULL), OPT(0)},
	{"trailer folded framing field", S(CHUNKED "0\r\nContent-Length: 1\r\n 2\r\n\r\n"), "[200 v1.1 chunked body=!H1C_EOBSFOLD", M(NULL), OPT(0)},
	{"too many trailers", S(CHUNKED "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), "[200 v1.1 chunked body=!H1C_EHEADERCOUNT", M(NULL), OPT(.max_headers = 2)},

	/* ---- hostile: head ------------------------------------------------- */
	{"too many headers", S(OK200 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
	 "!H1C_EHEADERCOUNT", M(NULL), OPT(.max_headers = 4)},
	{"head too large", S(OK200 "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
	 "!H1C_EHEADERSIZE", M(NULL), OPT(.max_head_size = 64)},
	{"head endless", S(OK200 "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	 "!H1C_EHEADERSIZE", M(NULL), OPT(.max_head_size = 64)},
	{"status two digits", S("HTTP/1.1 20 OK\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"status four digits", S("HTTP/1.1 2000 OK\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"status below 100", S("HTTP/1.1 099 Low\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"status with space", S("HTTP/1.1 2 0 OK\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"status double space", S("HTTP/1.1  200 OK\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"status no reason SP", S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"reason NUL", S("HTTP/1.1 200 O\0K\r\n\r\n"), "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"version 2.0", S("HTTP/2.0 200 OK\r\n\r\n"), "!H1C_EVERSION", M(NULL), OPT(0)},
	{"version lower case", S("http/1.1 200 OK\r\n\r\n"), "!H1C_EVERSION", M(NULL), OPT(0)},
	{"version two digit minor", S("HTTP/1.10 200 OK\r\n\r\n"), "!H1C_EVERSION", M(NULL), OPT(0)},
	{"version 0.9 body", S("<html>hello</html>"), "!H1C_EVERSION", M(NULL), OPT(0)},
	{"shoutcast", S("ICY 200 OK\r\n\r\n"), "!H1C_EVERSION", M(NULL), OPT(0)},
	{"NUL in value", S(OK200 "X: a\0b\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"DEL in value", S(OK200 "X: a\x7f" "b\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"bare CR in value", S(OK200 "X: a\rb\r\n\r\n"), "!H1C_ELINEEND", M(NULL), OPT(0)},
	{"bare LF in head", S("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), "!H1C_ELINEEND", M(NULL), OPT(0)},
	{"bare LF ends head", S(OK200 "Content-Length: 0\r\n\n"), "!H1C_ELINEEND", M(NULL), OPT(0)},
	{"space in name", S(OK200 "Bad Name: x\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"empty name", S(OK200 ": x\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"non-token name", S(OK200 "X@Y: z\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"no colon", S(OK200 "Foo\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"whitespace before first field", S(OK200 " X: y\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"control byte in value", S(OK200 "X: a\x01z\r\n\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},

	/* ---- hostile: truncation ------------------------------------------- */
	{"eof in head", S(OK200 "Content-Len"), "!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"eof in status line", S("HTTP/1.1 20"), "!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"eof in length body", S(OK200 "Content-Length: 10\r\n\r\nhello"),
	 "[200 v1.1 length body=hello!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"eof in chunk data", S(CHUNKED "a\r\nhello"), "[200 v1.1 chunked body=hello!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"eof before last chunk", S(CHUNKED "5\r\nhello\r\n"), "[200 v1.1 chunked body=hello!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"eof after last chunk line", S(CHUNKED "0\r\n"), "[200 v1.1 chunked body=!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"eof in trailers", S(CHUNKED "0\r\nX: 1\r\n"), "[200 v1.1 chunked body=!H1C_ETRUNCATED", M(NULL), OPT(0)},
	/* Found by fuzz_decode: a fault in a head cut short by EOF must be
	 * reported the same way whatever pieces the head came in. */
	{"fault in unfinished head at eof", S("HTTP/1.1 2\xff\xd1]\0\0" "00 OK\r\nContent-Length: \n\r\r5\nhello"),
	 "!H1C_ESTATUS", M(NULL), OPT(0)},
	{"bad name in unfinished head at eof", S(OK200 "Good: 1\r\nBad Name: 2\r\n"), "!H1C_EHEADER", M(NULL), OPT(0)},
	{"fault before the size limit", S(OK200 "X\x01: 1\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
	 "!H1C_EHEADER", M(NULL), OPT(.max_head_size = 48)},
	{"eof in second response", S(OK200 "Content-Length: 1\r\n\r\nx" OK200 "Con"),
	 "[200 v1.1 length body=x ka=1]!H1C_ETRUNCATED", M(NULL), OPT(0)},

	/* ---- hostile: byteranges ------------------------------------------- */
	{"byteranges part longer than range", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n"
	                                        "--B\r\nContent-Range: bytes 0-2/10\r\n\r\nabcdef\r\n--B--\r\n"),
	 "[206 v1.1 byteranges body= P(Content-Range=bytes 0-2/10)1:abc!H1C_EPARTLENGTH", M(NULL), OPT(0)},
	{"byteranges part shorter than range", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n"
	                                         "--B\r\nContent-Range: bytes 0-9/10\r\n\r\nabc\r\n--B--\r\n"),
	 "[206 v1.1 byteranges body= P(Content-Range=bytes 0-9/10)1:abc\\x0d\\x0a--B--!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"byteranges no boundary", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges\r\n\r\n"),
	 "!H1C_EBYTERANGES", M(NULL), OPT(0)},
	{"byteranges boundary too long", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary="
	                                   "12345678901234567890123456789012345678901234567890123456789012345678901\r\n\r\n"),
	 "!H1C_EBYTERANGES", M(NULL), OPT(0)},
	{"byteranges reversed range", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n"
	                                "--B\r\nContent-Range: bytes 5-2/10\r\n\r\nabc\r\n--B--\r\n"),
	 "[206 v1.1 byteranges body=!H1C_EBYTERANGES", M(NULL), OPT(0)},
	{"byteranges garbage after delimiter", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n"
	                                         "--BX\r\n\r\n"),
	 "[206 v1.1 byteranges body=!H1C_EBYTERANGES", M(NULL), OPT(0)},
	{"byteranges truncated", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n"
	                           "--B\r\n\r\nabc"),
	 "[206 v1.1 byteranges body= P()1:abc!H1C_ETRUNCATED", M(NULL), OPT(0)},
	{"byteranges endless preamble", S("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n\r\n"
	                                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
	 "[206 v1.1 byteranges body=!H1C_EBYTERANGES", M(NULL), OPT(.max_trailer_size = 32)},
};

static void run_case(void **state)
{
	const struct tcase *c = *state;

	expect_stream(c->in, c->len, c->methods, &c->opt, c->want);
}

int main(void)
{
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[N];
	size_t i;

	for (i = 0; i < N; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].setup_func = NULL;
		tests[i].teardown_func = NULL;
		tests[i].initial_state = (void *)&cases[i];
	}
	return _cmocka_run_group_tests("conformance", tests, N, NULL, NULL);
}
