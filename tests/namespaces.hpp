#pragma once
// Runs a function as pid 1 of fresh namespaces (PID + mount with its own /proc, and optionally
// network with loopback up). Needs root.
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace hostprint::test {

inline bool bring_loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  ::close(fd);
  return ok;
}

// Returns the function's exit status (its return value), or -1 when the namespaces could not be
// made. The function runs in a forked process: it reports through files or pipes, not memory.
inline int run_in_namespaces(const std::function<int()>& body, bool new_network = true) {
  pid_t outer = ::fork();
  if (outer < 0) return -1;
  if (outer == 0) {
    int flags = CLONE_NEWPID | CLONE_NEWNS | (new_network ? CLONE_NEWNET : 0);
    if (::unshare(flags) != 0) _exit(200);
    pid_t init = ::fork();
    if (init < 0) _exit(201);
    if (init == 0) {
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(202);
      if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        _exit(203);
      if (new_network && !bring_loopback_up()) _exit(204);
      int rc = 1;
      try {
        rc = body();
      } catch (...) {
        rc = 205;
      }
      _exit(rc);
    }
    int status = 0;
    ::waitpid(init, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  int status = 0;
  ::waitpid(outer, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Starts a program (argv[0] an absolute path) with its output appended to `log`; returns its pid.
// `in_child` runs in the child before the exec (dropping privileges, say); false ends it with 126.
inline pid_t spawn_logged(const std::vector<std::string>& argv, const std::filesystem::path& log,
                          const std::function<bool()>& in_child = {}) {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* o = std::freopen(log.c_str(), "a", stdout);
    FILE* e = std::freopen(log.c_str(), "a", stderr);
    (void)o;
    (void)e;
    if (in_child && !in_child()) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// True when something accepts TCP connections on 127.0.0.1:`port`.
inline bool accepts_on_loopback(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace hostprint::test
