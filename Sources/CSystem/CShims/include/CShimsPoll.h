#ifndef CSHIMS_POLL_H
#define CSHIMS_POLL_H

#include <stdint.h>

/// Creates a close-on-exec epoll set. Returns its descriptor, or -1 with errno set.
int CShims_epoll_create(void);

/// Creates a non-blocking, close-on-exec eventfd with a zero counter. Returns its descriptor, or
/// -1 with errno set.
int CShims_eventfd(void);

/// The number of processors this process may run on per its affinity mask, or 0 when unknown.
int CShims_affinity_processor_count(void);

/// Starts watching `fd` for readability (level-triggered) in the epoll set `epfd`, tagging its
/// events with `tag`. Returns 0, or -1 with errno set.
int CShims_epoll_add_readable(int epfd, int fd, uint64_t tag);

/// Stops watching `fd` in `epfd`. Returns 0, or -1 with errno set.
int CShims_epoll_remove(int epfd, int fd);

/// Waits up to `timeout_ms` (-1: forever) for events on `epfd` and stores at most `capacity` of
/// them as a tag in `tags` and an event mask in `masks`. Returns the count, or -1 with errno set.
int CShims_epoll_wait(int epfd, uint64_t *tags, uint32_t *masks, int capacity, int timeout_ms);

#endif
