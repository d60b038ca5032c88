#include "agent/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "agent/logging.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint {
namespace {

std::uint64_t env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return 0;
  std::uint64_t value = 0;
  std::string_view view(text);
  auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  return ec == std::errc() && end == view.data() + view.size() ? value : 0;
}

}  // namespace

ServiceNotifier ServiceNotifier::from_environment() {
  ServiceNotifier notifier;
  const char* path = std::getenv("NOTIFY_SOCKET");
  // '@' names an abstract socket; anything else must be an absolute path that fits sun_path.
  if (path != nullptr && (path[0] == '/' || path[0] == '@') &&
      std::strlen(path) < sizeof(sockaddr_un::sun_path))
    notifier.socket_path_ = path;
  // WATCHDOG_PID names the process meant; a child that inherited the variables is not it.
  const auto watchdog_pid = env_number("WATCHDOG_PID");
  const auto watchdog_usec = env_number("WATCHDOG_USEC");
  if (notifier.listening() && watchdog_usec > 0 &&
      (watchdog_pid == 0 || watchdog_pid == static_cast<std::uint64_t>(::getpid())))
    notifier.keep_alive_interval_ = std::chrono::microseconds(watchdog_usec / 2);
  return notifier;
}

bool ServiceNotifier::send(std::string_view message) const {
  if (!listening()) return false;
  collectors::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  const auto sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&address), length);
  if (sent != static_cast<ssize_t>(message.size())) {
    const int error = errno;
    log(LogLevel::warning, "systemd",
        "cannot notify the service manager on " + printable(socket_path_, 120) + ": " +
            std::strerror(error));
    return false;
  }
  return true;
}

void ServiceNotifier::ready(std::string_view status) const {
  send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::reloading() const {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
                    static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
  send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::stopping() const {
  send("STOPPING=1\nSTATUS=finishing requests in flight");
}

void ServiceNotifier::keep_alive() const {
  send("WATCHDOG=1");
}

}  // namespace hostprint
