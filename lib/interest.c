/*
 * interest.c - the interest table: what the client knows of each
 * descriptor (its connection, the events it is watched for, the outside
 * loop's slot, what the built-in loop's epoll set holds), told to the
 * outside loop's hooks and to epoll only when it changes; and the lists
 * of what an event changed: connections whose deadline and interest are
 * to be settled when the call unwinds, and connections with requests to
 * write at the end of dispatch. Calls no other room.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Returns 1 when the socket has something to read (bytes or EOF): an idle
 * connection in that state was closed by the server, or holds junk. */
int h1c__readable_now(int fd)
{
	struct pollfd p;

	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) != 0;
}

/* The descriptor table entry of fd, grown on demand; NULL when out of memory. */
struct fdent *h1c__fdent(struct h1c_client *c, int fd)
{
	if ((size_t)fd >= c->fds_cap) {
		size_t cap = c->fds_cap ? c->fds_cap : 64;
		struct fdent *f;
		while (cap <= (size_t)fd)
			cap *= 2;
		f = h1c__realloc(c->al, c->fds, cap * sizeof(*f));
		if (!f)
			return NULL;
		memset(f + c->fds_cap, 0, (cap - c->fds_cap) * sizeof(*f));
		c->fds = f;
		c->fds_cap = cap;
	}
	return &c->fds[fd];
}

/* Tells the outside loop what fd should be watched for, when that changed. */
void h1c__watch(struct h1c_client *c, int fd, unsigned events)
{
	struct fdent *f;

	if (fd < 0 || !c->fds || (size_t)fd >= c->fds_cap)
		return;
	f = &c->fds[fd];
	if (c->has_loop && f->watched != events)
		c->loop.watch(c->loop.user, fd, events, &f->slot);
	f->watched = events;
	if (!events)
		f->slot = NULL;
#ifdef H1C__EPOLL
	if (c->epfd >= 0 && f->ep != events) {
		struct epoll_event e;
		memset(&e, 0, sizeof(e));
		e.events = ((events & H1C_READ) ? EPOLLIN : 0u) | ((events & H1C_WRITE) ? EPOLLOUT : 0u);
		e.data.fd = fd;
		/* A descriptor an I/O layer closed or replaced behind our back
		 * is no longer in the set (ENOENT), or a new one with its
		 * number is (EEXIST): the other operation then applies. */
		if (!events) {
			(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, &e);
			f->ep = 0;
		} else if (epoll_ctl(c->epfd, f->ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e) == 0 ||
		           epoll_ctl(c->epfd, f->ep ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &e) == 0) {
			f->ep = events;
		}
	}
#endif
}

/* Forgets a descriptor about to be closed. */
void h1c__fd_forget(struct h1c_client *c, int fd)
{
	h1c__watch(c, fd, 0);
	if (fd >= 0 && (size_t)fd < c->fds_cap)
		c->fds[fd].cx = NULL;
}

/* The dial's hook: an attempt's socket is about to be closed. */
void h1c__dial_closing(void *arg, int fd)
{
	h1c__fd_forget(arg, fd);
}

/* Marks x for settling: its deadline and the events it wants are brought
 * up to date when the current public call unwinds (settle()), so nothing
 * walks every connection to find the ones that changed. */
void h1c__cx_touch(struct h1c_client *c, struct cx *x)
{
	if (x->touched || x->state == CX_DEAD)
		return;
	x->touched = 1;
	H1C__LIST_FRONT(c->touched, x, tnext, tprev);
}

/* ---- the lists that keep every event's cost flat ---------------------------- */


void h1c__touched_unlink(struct h1c_client *c, struct cx *x)
{
	if (!x->touched)
		return;
	H1C__LIST_OUT(c->touched, x, tnext, tprev);
	x->touched = 0;
}

/* Queues x for the write at the end of dispatch (a pipeline goes out in
 * one write). */
void h1c__flush_later(struct h1c_client *c, struct cx *x)
{
	if (x->flushq || x->state == CX_DEAD)
		return;
	x->flushq = 1;
	H1C__LIST_FRONT(c->flushq, x, fnext, fprev);
}

void h1c__flushq_unlink(struct h1c_client *c, struct cx *x)
{
	if (!x->flushq)
		return;
	H1C__LIST_OUT(c->flushq, x, fnext, fprev);
	x->flushq = 0;
}
