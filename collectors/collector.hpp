#pragma once
// What every collector shares: the scan's context and the outcome it reports.
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hostprint::collectors {

struct Inventory;

struct ScanContext {
  std::filesystem::path root = "/";      // files are read under this root
  std::filesystem::path proc = "/proc";  // live kernel state of the agent's namespaces
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // What the collectors run before this one in the same scan found (the process table, the
  // installed packages, ...); null when a collector runs on its own.
  const Inventory* found = nullptr;

  bool expired() const { return std::chrono::steady_clock::now() >= deadline; }
};

// A collector's report of one run. `complete` false means the result could not be produced at
// all (deadline, failure to open the source): the scanner then keeps the last good result.
// With `complete` true, `errors` lists what was skipped while the rest was read.
struct Outcome {
  bool complete = true;
  std::vector<std::string> errors;

  void error(std::string message) { errors.push_back(std::move(message)); }
  void fail(std::string message) {
    complete = false;
    errors.push_back(std::move(message));
  }
};

}  // namespace hostprint::collectors

namespace hostprint::collectors {


// One asset source. A collector keeps its last good result, so a failed run changes nothing.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  // Reads the source; when the outcome is complete, the collector's result is replaced.
  virtual Outcome collect(const ScanContext& context) = 0;
  // Hands the last good result to the inventory being built (shared, not copied).
  virtual void publish(Inventory& inventory) const = 0;
  virtual std::size_t item_count() const = 0;
};

}  // namespace hostprint::collectors
