#include <malloc.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "agent/cli.hpp"

int main(int argc, char** argv) {
  using namespace hostprint;
  // Two threads (HTTP and scanner) need no more than two malloc arenas; more only fragment.
  ::mallopt(M_ARENA_MAX, 2);
  // A fixed threshold keeps every large scan buffer (a package database's text) in its own
  // mapping, returned whole when freed; glibc's moving threshold would leave them in the heap.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    CommandLine command_line = parse_command_line(args);
    if (command_line.help_for) {
      std::fputs(usage_text(command_line.help_for).c_str(), stdout);
      return 0;
    }
    switch (command_line.subcommand) {
      case Subcommand::help:
        std::fputs(usage_text(std::nullopt).c_str(), stdout);
        return 0;
      case Subcommand::version:
        std::printf("hostprint %s\n", HOSTPRINT_VERSION);
        return 0;
      case Subcommand::serve:
        return run_serve(command_line);
      case Subcommand::query:
        return run_query(command_line);
      case Subcommand::fleet:
        return run_fleet(command_line);
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "hostprint: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hostprint: fatal: %s\n", e.what());
    return 1;
  }
  return 1;
}
