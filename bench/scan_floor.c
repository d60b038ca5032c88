/* The least work that yields what hostprint's processes and listening_ports collectors must read
 * (assets.md, and lists.md for what a list shows of each item):
 * - the /proc listing, then for each pid its stat (start time, kernel thread flag), exe link
 *   (process_path), the exe's mode (run_permission: a stat through the link), cgroup (container)
 *   and command line (launch_params);
 * - one NETLINK_SOCK_DIAG dump of the TCP listeners and UDP sockets, IPv4 and IPv6, and the
 *   sockets' owners (a port's pid and path): the processes' fd links, in ascending pid order, read
 *   until every socket's inode has been met (all of them when an owner cannot be seen).
 * Nothing is parsed beyond the socket inodes and nothing is kept, so its CPU time is a floor for a
 * scan, measured on the same machine in the same run.
 * With --libproc2 the pids and their stat come from libproc2 (one whole-table reap of pid, start
 * time and flags, as the processes collector's first scan does) instead of a listing and a read:
 * the floor for a reader bound to libproc2 (assets.md names it the source of processes), which
 * lists /proc itself, stats each /proc/<pid> and parses the whole stat line with sscanf.
 *   scan_floor [--proc DIR] [--rounds N] [--libproc2]
 * Prints "RESULT key value" lines for bench/run.sh: floor_cpu_ms (median of the rounds, user +
 * system from getrusage), floor_wall_ms, floor_processes, floor_sockets, floor_owner_reads. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libproc2/pids.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buffer[65536];

/* Makes room for one more element in the array `*items` of `*capacity` elements of `size` bytes
 * holding `count`; exits when memory runs out. */
static void make_room(void *items, long count, long *capacity, size_t size) {
  if (count < *capacity) return;
  *capacity = *capacity ? *capacity * 2 : 256;
  void *grown = realloc(*(void **)items, (size_t)*capacity * size);
  if (!grown) {
    perror("scan_floor");
    exit(1);
  }
  *(void **)items = grown;
}

/* The pids met by the listing, ascending: the owner search walks them. */
static int *pids;
static long pid_count, pid_capacity;

static void remember_pid(int pid) {
  make_room(&pids, pid_count, &pid_capacity, sizeof *pids);
  pids[pid_count++] = pid;
}

static double cpu_ms(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static double wall_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void read_file(int dir, const char *name) {
  int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  while (read(fd, buffer, sizeof buffer) > 0) {
  }
  close(fd);
}

/* exe (link and mode), cgroup and cmdline of the pid named `name`: what both variants read
 * besides stat. */
static void read_pid_files(int proc, const char *name) {
  char path[300]; /* a d_name is at most 255 bytes */
  snprintf(path, sizeof path, "%s/exe", name);
  if (readlinkat(proc, path, buffer, sizeof buffer) > 0) {
    struct stat st;
    (void)fstatat(proc, path, &st, 0);
  }
  snprintf(path, sizeof path, "%s/cgroup", name);
  read_file(proc, path);
  snprintf(path, sizeof path, "%s/cmdline", name);
  read_file(proc, path);
}

static long scan_processes(int proc) {
  long count = 0;
  int listing = openat(proc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fdopendir(listing);
  if (!d) return -1;
  struct dirent *e;
  char path[300]; /* a d_name is at most 255 bytes */
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    ++count;
    remember_pid(atoi(e->d_name));
    snprintf(path, sizeof path, "%s/stat", e->d_name);
    read_file(proc, path);
    read_pid_files(proc, e->d_name);
  }
  closedir(d);
  return count;
}

/* The same reads, with the pids and their stat from libproc2 (/proc only). */
static long scan_processes_libproc2(int proc) {
  enum pids_item items[] = {PIDS_ID_PID, PIDS_TICS_BEGAN, PIDS_FLAGS};
  struct pids_info *info = NULL;
  if (procps_pids_new(&info, items, 3) < 0) return -1;
  struct pids_fetch *fetch = procps_pids_reap(info, PIDS_FETCH_TASKS_ONLY);
  if (!fetch) {
    procps_pids_unref(&info);
    return -1;
  }
  long count = 0;
  char name[16];
  for (int i = 0; i < fetch->counts->total; ++i) {
    int pid = PIDS_VAL(0, s_int, fetch->stacks[i], info);
    ++count;
    /* A kernel thread has no executable, command line or open files to read. */
    if (PIDS_VAL(2, ul_int, fetch->stacks[i], info) & 0x00200000 /* PF_KTHREAD */) continue;
    snprintf(name, sizeof name, "%d", pid);
    remember_pid(pid);
    read_pid_files(proc, name);
  }
  procps_pids_unref(&info);
  return count;
}

/* The sockets the dumps returned, and whether an owner was found for each. */
struct socket_seen {
  unsigned long inode;
  int owned;
};
static struct socket_seen *sockets_seen;
static long socket_count, socket_capacity;

static void remember_socket(unsigned long inode) {
  make_room(&sockets_seen, socket_count, &socket_capacity, sizeof *sockets_seen);
  sockets_seen[socket_count++] = (struct socket_seen){inode, 0};
}

/* One dump request; returns the sockets in the answer, -1 on error. */
static long dump(int sock, int family, int protocol, unsigned states) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = family;
  msg.req.sdiag_protocol = protocol;
  msg.req.idiag_states = states;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(sock, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -1;
  long count = 0;
  for (;;) {
    ssize_t n = recv(sock, buffer, sizeof buffer, 0);
    if (n < 0) return errno == EINTR ? count : -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return count;
      if (h->nlmsg_type == NLMSG_ERROR) return -1;
      if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
        remember_socket(((const struct inet_diag_msg *)NLMSG_DATA(h))->idiag_inode);
      ++count;
    }
  }
}

static long scan_sockets(void) {
  int sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (sock < 0) return -1;
  long total = 0;
  const int families[] = {AF_INET, AF_INET6};
  for (int f = 0; f < 2; ++f) {
    long tcp = dump(sock, families[f], IPPROTO_TCP, 1u << 10 /* TCP_LISTEN */);
    long udp = dump(sock, families[f], IPPROTO_UDP, 1u << 7 /* TCP_CLOSE: unconnected */);
    if (tcp < 0 || udp < 0) {
      close(sock);
      return -1;
    }
    total += tcp + udp;
  }
  close(sock);
  return total;
}

/* Marks the sockets among `pid`'s open files; returns how many it newly explained. */
static long read_owner(int proc, int pid) {
  char path[32];
  snprintf(path, sizeof path, "%d/fd", pid);
  int dir = openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  DIR *d = fdopendir(dir);
  if (!d) {
    close(dir);
    return 0;
  }
  long explained = 0;
  struct dirent *e;
  char link[64];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ssize_t n = readlinkat(dir, e->d_name, link, sizeof link - 1);
    if (n < 9 || memcmp(link, "socket:[", 8) != 0) continue;
    link[n] = 0;
    unsigned long inode = strtoul(link + 8, NULL, 10);
    for (long i = 0; i < socket_count; ++i)
      if (sockets_seen[i].inode == inode && !sockets_seen[i].owned) {
        sockets_seen[i].owned = 1;
        ++explained;
      }
  }
  closedir(d);
  return explained;
}

/* The owners of the dumped sockets: pids ascending until every socket is explained (the first met
 * is the lowest owner, which is the one hostprint shows). Returns the processes read. */
static long find_owners(int proc) {
  long left = socket_count, read = 0;
  for (long i = 0; i < pid_count && left > 0; ++i, ++read) left -= read_owner(proc, pids[i]);
  return read;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *proc_dir = "/proc";
  int rounds = 5;
  int libproc2 = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--proc") == 0 && i + 1 < argc)
      proc_dir = argv[++i];
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
      rounds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--libproc2") == 0)
      libproc2 = 1;
    else {
      fprintf(stderr, "usage: scan_floor [--proc DIR] [--rounds N] [--libproc2]\n");
      return 2;
    }
  }
  if (libproc2 && strcmp(proc_dir, "/proc") != 0) {
    fprintf(stderr, "scan_floor: libproc2 reads /proc only; --libproc2 cannot take --proc\n");
    return 2;
  }
  if (rounds < 1 || rounds > 1000) {
    fprintf(stderr, "scan_floor: --rounds must be 1 to 1000\n");
    return 2;
  }
  int proc = open(proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) {
    perror(proc_dir);
    return 1;
  }
  double cpu[1000], wall[1000];
  long processes = 0, sockets = 0, owner_reads = 0;
  for (int r = 0; r < rounds; ++r) {
    pid_count = 0;
    socket_count = 0;
    double c0 = cpu_ms(), w0 = wall_ms();
    processes = libproc2 ? scan_processes_libproc2(proc) : scan_processes(proc);
    sockets = scan_sockets();
    if (sockets >= 0) owner_reads = find_owners(proc);
    cpu[r] = cpu_ms() - c0;
    wall[r] = wall_ms() - w0;
    if (processes < 0 || sockets < 0) {
      fprintf(stderr, "scan_floor: reading %s or the sock_diag dump failed: %s\n", proc_dir, strerror(errno));
      return 1;
    }
  }
  qsort(cpu, rounds, sizeof cpu[0], by_value);
  qsort(wall, rounds, sizeof wall[0], by_value);
  printf("floor: %ld processes, %ld sockets, owners sought in %ld processes; cpu %.2f ms, wall %.2f ms (median of %d)\n",
         processes, sockets, owner_reads, cpu[rounds / 2], wall[rounds / 2], rounds);
  printf("RESULT floor_cpu_ms %.3f\nRESULT floor_wall_ms %.3f\n", cpu[rounds / 2], wall[rounds / 2]);
  printf("RESULT floor_processes %ld\nRESULT floor_sockets %ld\n", processes, sockets);
  printf("RESULT floor_owner_reads %ld\n", owner_reads);
  return 0;
}
