#pragma once

#include <string>
#include <vector>

namespace hostprint {

// The CPUs the process may run on, as it was when first asked (before any thread was pinned),
// in ascending order; empty if the kernel would not say.
const std::vector<int>& process_cpus();

// The CPUs the calling thread may run on now, in ascending order; empty if the kernel would not
// say.
std::vector<int> calling_thread_cpus();

// Pins the calling thread to `cpu`; returns 0, or the errno of the refusal.
int pin_this_thread(int cpu);

// Gives the calling thread the process's CPUs again (a thread started by a pinned one inherits
// its pin). Does nothing if nothing was pinned.
void unpin_this_thread();

// "0, 1, 5" for log lines.
std::string cpu_list_text(const std::vector<int>& cpus);

}  // namespace hostprint
