#pragma once
// The service manager's readiness and watchdog protocol (sd_notify(3)): a few datagrams on
// $NOTIFY_SOCKET, written here rather than pulling in libsystemd for them.
#include <chrono>
#include <string>
#include <string_view>

namespace hostprint {

class ServiceNotifier {
 public:
  // Silent when the process was not started by a service manager that listens.
  static ServiceNotifier from_environment();

  bool listening() const { return !socket_path_.empty(); }
  void ready(std::string_view status) const;
  // Reloading until the next ready(); systemd wants the monotonic time of the reload with it.
  void reloading() const;
  void stopping() const;
  void keep_alive() const;
  // How often keep_alive() is due (half the watchdog period); zero when no watchdog watches us.
  std::chrono::microseconds keep_alive_interval() const { return keep_alive_interval_; }

 private:
  bool send(std::string_view message) const;

  std::string socket_path_;
  std::chrono::microseconds keep_alive_interval_{0};
};

}  // namespace hostprint
