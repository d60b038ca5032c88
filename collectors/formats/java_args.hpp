#pragma once
// A JVM's command line: what it runs, its class path, agents and system properties.
#include <string>
#include <string_view>
#include <vector>

namespace hostprint::collectors {

// What a JVM's command line says it runs. Options and their values are skipped; `@argfiles` are
// not opened (left alone). The first argument that is not an option is the main class; `-jar X`
// runs X; `-m module/class` (or `--module`) names the class after the '/'.
struct JavaLaunch {
  std::string main_class;               // empty with -jar, or -m without a class
  std::string jar;                      // the -jar argument as written
  std::string module;                   // the -m module (without the class)
  std::vector<std::string> class_path;  // entries of -cp / -classpath / --class-path
  std::vector<std::string> agents;      // -javaagent: jars as written, without their options
};

// `argv[0]` is the java launcher itself.
JavaLaunch parse_java_args(const std::vector<std::string>& argv);

// The value of a JVM's system property `-D<name>=value` (the last one given, as the JVM takes
// it); empty when not given.
std::string java_property(const std::vector<std::string>& argv, std::string_view name);

// True for "java", "java8", "javaw" and the like: the file name of `exe` starts with "java".
bool is_jvm_executable(std::string_view exe);

}  // namespace hostprint::collectors
