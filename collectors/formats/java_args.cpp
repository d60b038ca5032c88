#include "collectors/formats/java_args.hpp"

#include "collectors/formats/proc_text.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace hostprint::collectors {
namespace {

// Java launcher options that take the next argument as their value.
constexpr std::array<std::string_view, 17> java_options_with_value = {"-cp",
                                                                      "-classpath",
                                                                      "--class-path",
                                                                      "-p",
                                                                      "--module-path",
                                                                      "--upgrade-module-path",
                                                                      "--add-modules",
                                                                      "--add-opens",
                                                                      "--add-exports",
                                                                      "--add-reads",
                                                                      "--patch-module",
                                                                      "--limit-modules",
                                                                      "--enable-native-access",
                                                                      "-d",
                                                                      "--describe-module",
                                                                      "--source",
                                                                      "--add-enable-native-access"};

std::vector<std::string> split_path_list(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    auto colon = s.find(':');
    auto part = s.substr(0, colon);
    if (!part.empty()) out.emplace_back(part);
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  return out;
}

}  // namespace

std::string java_property(const std::vector<std::string>& argv, std::string_view name) {
  std::string value;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a.size() > name.size() + 3 && a.starts_with("-D") && a.substr(2, name.size()) == name &&
        a[2 + name.size()] == '=')
      value = a.substr(3 + name.size());
  }
  return value;
}

JavaLaunch parse_java_args(const std::vector<std::string>& argv) {
  JavaLaunch launch;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    auto value_after = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argv.size()) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (a == "-jar") {
      if (auto v = value_after()) launch.jar = std::string(*v);
      return launch;
    }
    if (a == "-m" || a == "--module" || a.starts_with("--module=")) {
      std::optional<std::string_view> v;
      if (a.starts_with("--module="))
        v = a.substr(9);
      else
        v = value_after();
      if (v) {
        auto slash = v->find('/');
        launch.module = std::string(v->substr(0, slash));
        if (slash != std::string_view::npos) launch.main_class = std::string(v->substr(slash + 1));
      }
      return launch;
    }
    if (a == "-cp" || a == "-classpath" || a == "--class-path") {
      if (auto v = value_after()) launch.class_path = split_path_list(*v);
      continue;
    }
    if (a.starts_with("--class-path=")) {
      launch.class_path = split_path_list(a.substr(13));
      continue;
    }
    if (a.starts_with("-javaagent:")) {
      auto jar = a.substr(11);
      jar = jar.substr(0, jar.find('='));
      if (!jar.empty()) launch.agents.emplace_back(jar);
      continue;
    }
    if (std::find(java_options_with_value.begin(), java_options_with_value.end(), a) !=
        java_options_with_value.end()) {
      value_after();
      continue;
    }
    if (a.starts_with("-") || a.starts_with("@")) continue;  // options; argfiles are not opened
    launch.main_class = std::string(a);
    return launch;
  }
  return launch;
}

bool is_jvm_executable(std::string_view exe) {
  exe = strip_deleted_suffix(exe);
  auto slash = exe.rfind('/');
  std::string_view base = slash == std::string_view::npos ? exe : exe.substr(slash + 1);
  return base.starts_with("java");
}

}  // namespace hostprint::collectors
