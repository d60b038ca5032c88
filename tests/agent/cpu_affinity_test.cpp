#include "agent/cpu_affinity.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace hostprint {
namespace {

// The calling thread's Cpus_allowed_list ("0-3,6") as the kernel writes it in /proc.
std::vector<int> proc_status_cpus() {
  std::ifstream status("/proc/thread-self/status");
  std::string line, list;
  while (std::getline(status, line))
    if (line.starts_with("Cpus_allowed_list:")) list = line.substr(18);
  std::vector<int> cpus;
  std::istringstream ranges(list);
  std::string range;
  while (std::getline(ranges, range, ',')) {
    const auto dash = range.find('-');
    const int first = std::stoi(range.substr(0, dash));
    const int last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
  }
  return cpus;
}

// The CPUs read are those the kernel shows in /proc, for the process and for a pinned thread.
TEST(CpuAffinity, CpusAreThoseTheKernelShows) {
  const auto cpus = process_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_EQ(cpus, proc_status_cpus());
  EXPECT_EQ(calling_thread_cpus(), proc_status_cpus());
  std::vector<int> pinned, shown;
  std::thread([&] {
    ASSERT_EQ(pin_this_thread(cpus.back()), 0);
    pinned = calling_thread_cpus();
    shown = proc_status_cpus();
  }).join();
  EXPECT_EQ(pinned, std::vector<int>{cpus.back()});
  EXPECT_EQ(shown, pinned);
}

// A pin holds the calling thread only; unpinning gives it the process's CPUs again.
TEST(CpuAffinity, APinHoldsTheCallingThreadOnlyUntilUnpinned) {
  const auto all = process_cpus();
  ASSERT_FALSE(all.empty());
  const int last = all.back();
  std::vector<int> pinned, unpinned;
  int error = -1;
  std::thread([&] {
    error = pin_this_thread(last);
    pinned = calling_thread_cpus();
    unpin_this_thread();
    unpinned = calling_thread_cpus();
  }).join();
  EXPECT_EQ(error, 0);
  EXPECT_EQ(pinned, std::vector<int>{last});
  EXPECT_EQ(unpinned, all);
  EXPECT_EQ(calling_thread_cpus(), all);  // the test's own thread was never pinned
}

// A thread started by a pinned thread inherits its pin (which is why the fleet's query threads
// unpin themselves).
TEST(CpuAffinity, AThreadStartedByAPinnedOneInheritsThePin) {
  const auto all = process_cpus();
  std::vector<int> child, child_unpinned;
  std::thread([&] {
    ASSERT_EQ(pin_this_thread(all.front()), 0);
    std::thread([&] {
      child = calling_thread_cpus();
      unpin_this_thread();
      child_unpinned = calling_thread_cpus();
    }).join();
  }).join();
  EXPECT_EQ(child, std::vector<int>{all.front()});
  EXPECT_EQ(child_unpinned, all);
}

TEST(CpuAffinity, RefusalsAreReturnedAndChangeNothing) {
  std::vector<int> after;
  int negative = 0, too_high = 0, absent = 0;
  std::thread([&] {
    negative = pin_this_thread(-1);
    too_high = pin_this_thread(CPU_SETSIZE);
    absent = pin_this_thread(CPU_SETSIZE - 1);  // no machine here has CPU 1023
    after = calling_thread_cpus();
  }).join();
  EXPECT_EQ(negative, EINVAL);
  EXPECT_EQ(too_high, EINVAL);
  EXPECT_EQ(absent, EINVAL);
  EXPECT_EQ(after, process_cpus());
}

TEST(CpuAffinity, ListText) {
  EXPECT_EQ(cpu_list_text({}), "");
  EXPECT_EQ(cpu_list_text({3}), "3");
  EXPECT_EQ(cpu_list_text({0, 1, 5}), "0, 1, 5");
}

}  // namespace
}  // namespace hostprint
