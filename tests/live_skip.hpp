#pragma once
// A live test that cannot run on this machine skips, unless HOSTPRINT_STRICT_LIVE=1 (set by
// scripts/test.sh): then the skip is a failure, so the suite's own machine never passes a live
// check by not making it. HOSTPRINT_STRICT_LIVE=0 allows skips on a machine that lacks something.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace hostprint::test {

inline bool live_skips_are_failures() {
  const char* strict = std::getenv("HOSTPRINT_STRICT_LIVE");
  return strict != nullptr && std::string_view(strict) == "1";
}

}  // namespace hostprint::test

// Use as GTEST_SKIP(): `if (!ready) LIVE_SKIP() << "why";` (returns from the test or SetUp).
#define LIVE_SKIP()                                                                          \
  return GTEST_MESSAGE_(::hostprint::test::live_skips_are_failures()                          \
                            ? "a live test may not skip here (HOSTPRINT_STRICT_LIVE=1; set it " \
                              "to 0 on a machine that lacks this): "                        \
                            : "",                                                            \
                        ::hostprint::test::live_skips_are_failures()                          \
                            ? ::testing::TestPartResult::kFatalFailure                       \
                            : ::testing::TestPartResult::kSkip)
