#include "agent/cpu_affinity.hpp"

#include <sched.h>

#include <atomic>
#include <cerrno>

namespace hostprint {
namespace {

std::vector<int> cpus_of(const cpu_set_t& set) {
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

struct ProcessCpus {
  cpu_set_t set;
  std::vector<int> list;
  ProcessCpus() {
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) list = cpus_of(set);
  }
};

const ProcessCpus& cpus_at_first_use() {
  static const ProcessCpus cpus;
  return cpus;
}

std::atomic<bool> any_pinned{false};

}  // namespace

const std::vector<int>& process_cpus() {
  return cpus_at_first_use().list;
}

std::vector<int> calling_thread_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return {};
  return cpus_of(set);
}

int pin_this_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
  (void)cpus_at_first_use();  // taken before the first pin
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (::sched_setaffinity(0, sizeof one, &one) != 0) return errno;
  any_pinned = true;
  return 0;
}

void unpin_this_thread() {
  if (!any_pinned) return;
  const auto& cpus = cpus_at_first_use();
  if (!cpus.list.empty()) ::sched_setaffinity(0, sizeof cpus.set, &cpus.set);
}

std::string cpu_list_text(const std::vector<int>& cpus) {
  std::string text;
  for (int cpu : cpus) text.append(text.empty() ? "" : ", ").append(std::to_string(cpu));
  return text;
}

}  // namespace hostprint
