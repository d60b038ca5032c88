#include "collectors/collector.hpp"

#include <exception>

namespace hostprint::collectors {

Outcome run_contained(Collector& collector, const ScanContext& context) {
  Outcome outcome;
  try {
    outcome = collector.collect(context);
  } catch (const std::exception& e) {
    outcome = {};
    outcome.fail(std::string("internal failure: ") + e.what());
  } catch (...) {
    outcome = {};
    outcome.fail("internal failure");
  }
  return outcome;
}

}  // namespace hostprint::collectors
