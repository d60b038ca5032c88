#include "collectors/rules/process_matcher.hpp"

#include <algorithm>
#include <optional>

#include "collectors/formats/java_args.hpp"

namespace hostprint::collectors {
namespace {

std::string_view basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// argv[0] as started: its first space-separated word (a rewritten title keeps it first).
std::string_view argv0_path(const std::vector<std::string>& argv) {
  if (argv.empty()) return {};
  std::string_view a = argv[0];
  return a.substr(0, a.find(' '));
}

// What of the process `rule` recognises, if anything (before path_contains).
std::optional<std::string> recognised(const ProductRule& rule, std::string_view exe,
                                      std::string_view started_name,
                                      const std::optional<JavaLaunch>& java) {
  const std::string_view exe_name = basename_of(exe);
  if (!exe_name.empty() && contains(rule.executables, exe_name)) return std::string(exe);
  if (!started_name.empty() && contains(rule.executables, started_name)) return std::string(exe);
  if (!started_name.empty())
    for (const auto& prefix : rule.argv0)
      if (!prefix.empty() && started_name.starts_with(prefix)) return std::string(exe);
  if (!java) return std::nullopt;
  if (!java->main_class.empty() && contains(rule.main_classes, java->main_class))
    return std::string(exe);
  if (!java->jar.empty() && contains(rule.jars, basename_of(java->jar))) return java->jar;
  for (const auto& entry : java->class_path)
    if (contains(rule.jars, basename_of(entry))) return entry;
  return std::nullopt;
}

}  // namespace

ProcessMatch match_process(std::span<const ProductRule* const> rules, std::string_view exe,
                           const std::vector<std::string>& argv) {
  const std::string_view started_name = basename_of(argv0_path(argv));
  std::optional<JavaLaunch> java;
  if (basename_of(exe) == "java") java = parse_java_args(argv);
  for (const ProductRule* rule : rules) {
    auto path = recognised(*rule, exe, started_name, java);
    if (!path) continue;
    if (!rule->path_contains.empty() &&
        std::none_of(rule->path_contains.begin(), rule->path_contains.end(),
                     [&](const std::string& part) { return exe.find(part) != std::string::npos; }))
      continue;
    return {rule, std::move(*path)};
  }
  return {};
}

}  // namespace hostprint::collectors
