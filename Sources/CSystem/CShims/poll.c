#ifdef __linux__
#define _GNU_SOURCE
#endif

#include "CShimsPoll.h"

#include <errno.h>
#include <string.h>

#ifdef __linux__
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

int CShims_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int CShims_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int CShims_affinity_processor_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
}

int CShims_epoll_add_readable(int epfd, int fd, uint64_t tag) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = tag;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int CShims_epoll_remove(int epfd, int fd) {
    struct epoll_event unused;
    memset(&unused, 0, sizeof(unused));
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused);
}

int CShims_epoll_wait(int epfd, uint64_t *tags, uint32_t *masks, int capacity, int timeout_ms) {
    enum { batch = 64 };
    struct epoll_event events[batch];
    if (capacity > batch) capacity = batch;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    for (int index = 0; index < count; index++) {
        tags[index] = events[index].data.u64;
        masks[index] = events[index].events;
    }
    return count;
}
#else
int CShims_epoll_create(void) { errno = ENOSYS; return -1; }
int CShims_eventfd(void) { errno = ENOSYS; return -1; }
int CShims_affinity_processor_count(void) { return 0; }
int CShims_epoll_add_readable(int epfd, int fd, uint64_t tag) { errno = ENOSYS; return -1; }
int CShims_epoll_remove(int epfd, int fd) { errno = ENOSYS; return -1; }
int CShims_epoll_wait(int epfd, uint64_t *tags, uint32_t *masks, int capacity, int timeout_ms) {
    errno = ENOSYS;
    return -1;
}
#endif
