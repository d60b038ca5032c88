#pragma once
// The command line: `hostprint serve|query|fleet ...`, with flags over the configuration file.
#include <optional>
#include <string>
#include <vector>

#include "agent/config.hpp"

namespace hostprint {

enum class Subcommand { serve, query, fleet, help, version };

struct CommandLine {
  Subcommand subcommand = Subcommand::help;
  std::optional<std::string> help_for;  // `SUBCOMMAND --help`
  std::optional<std::filesystem::path> config_file;
  std::vector<std::pair<std::string, std::string>> overrides;  // flag name -> value, in order
  std::string target;                                          // query
};

// Throws ConfigError with a one-line message for unknown flags and missing values.
CommandLine parse_command_line(const std::vector<std::string>& args);

// Defaults, then the file (the default one only if it exists), then the flags.
Config resolve_config(const CommandLine& command_line);

std::string usage_text(const std::optional<std::string>& subcommand);

int run_serve(const CommandLine& command_line);
int run_query(const CommandLine& command_line);
int run_fleet(const CommandLine& command_line);

}  // namespace hostprint
