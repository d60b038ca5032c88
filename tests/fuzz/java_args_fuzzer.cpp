// A JVM's command line (NUL-separated, as in /proc/<pid>/cmdline).
#include "collectors/formats/java_args.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  std::vector<std::string> argv;
  for (auto part : fuzz::split(text, std::string_view("\0", 1))) argv.emplace_back(part);
  auto launch = collectors::parse_java_args(argv);
  fuzz::require(launch.class_path.size() <= size + 1, "more class path entries than bytes");
  (void)collectors::java_property(argv, "catalina.base");
  (void)collectors::java_property(argv, "");
  if (!argv.empty()) (void)collectors::is_jvm_executable(argv.front());
  return 0;
}
